#!/bin/sh
# A Kannel sendsms client of the kind Kannel's user guide shows: one GET of
#   http://smsbox:13013/cgi-bin/sendsms?username=...&password=...&from=...&to=...&text=...
# with wget, the recipients separated by spaces (sent as +), and the answer tested the way
# such scripts test it: Kannel's "0: Accepted for delivery" or "3: Queued for later
# delivery" is success, anything else (or an HTTP error, which makes wget fail) is not.
#
#   SENDSMS_URL=http://127.0.0.1:13013/cgi-bin/sendsms SENDSMS_USER=tester \
#   SENDSMS_PASSWORD=foobar kannel_sendsms.sh FROM "TO [TO...]" TEXT
#
# Used by emgd/tests/http_dialects.rs against the real Kannel and against emgd, unchanged.
set -u
from=$1 to=$2 text=$3

urlencode() {
    # Spaces as +, everything but [A-Za-z0-9._~-] as %XX, as a browser form would.
    printf '%s' "$1" | od -An -tx1 -v | tr -s ' \n' '\n' | grep . |
        while read -r h; do
            case $h in
                20) printf '+' ;;
                2d|2e|5f|7e|3[0-9]|4[1-9a-f]|5[0-9a]|6[1-9a-f]|7[0-9a]) printf "\\$(printf '%03o' "0x$h")" ;;
                *) printf '%%%s' "$h" ;;
            esac
        done
}

url="$SENDSMS_URL?username=$(urlencode "$SENDSMS_USER")&password=$(urlencode "$SENDSMS_PASSWORD")"
url="$url&from=$(urlencode "$from")&to=$(urlencode "$to")&text=$(urlencode "$text")"
answer=$(wget -q -O - "$url")
status=$?
if [ $status -ne 0 ]; then
    echo "failed: the HTTP request failed (wget exit $status)"
    exit 1
fi
case $answer in
    "0: Accepted for delivery"*|"3: Queued for later delivery"*)
        echo "ok: $answer" ;;
    *)
        echo "failed: $answer"
        exit 1 ;;
esac

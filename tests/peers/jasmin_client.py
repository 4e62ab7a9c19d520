# -*- coding: utf-8 -*-
"""A Jasmin HTTP API client as Jasmin's documentation writes them (docs/apis/ja-http:
"Examples"): Python 2, urllib2.urlopen of /send with the parameters urlencoded into the
query, the answer read and nothing else done with it. The sends are the documented ones:
minimal parameters, with an originating address, with a terminal-level DLR request, a long
content, and a UCS-2 content given as its bytes with coding 8.

    python2 jasmin_client.py http://127.0.0.1:1401 USER PASSWORD

Prints one JSON line per send: {"status": ..., "body": ...}. Used by
emgd/tests/http_dialects.rs against emgd. Jasmin's examples are Python 2; so is this.
"""
import json
import sys
import urllib
import urllib2

base, user, password = sys.argv[1], sys.argv[2], sys.argv[3]


def send(params):
    url = "%s/send?%s" % (base, urllib.urlencode(params))
    try:
        r = urllib2.urlopen(url)
        status, body = r.getcode(), r.read()
    except urllib2.HTTPError as e:
        status, body = e.code, e.read()
    print(json.dumps({"status": status, "body": body}))


params = {'username': user, 'password': password, 'to': '+24206155423', 'content': 'Hello'}
# Minimal parameters, then with an originating address.
send(params)
params['from'] = 'Jasmin GW'
send(params)
# A terminal-level (2) acknowledgement to the application's URL.
send({'username': user, 'password': password, 'to': '+24206155423', 'content': 'Hello',
      'dlr-url': 'http://127.0.0.1:9/acknowledgement', 'dlr-level': 2})
# More than 160 characters.
params['content'] = 'Very long message ' + '.' * 180
send(params)
# UCS-2 (UTF-16) arabic content: its bytes, coding 8.
params['content'] = '\x06\x23\x06\x31\x06\x46\x06\x28'
params['coding'] = 8
send(params)

#!/bin/sh
# An EBE program for emgd/tests/ebe_connector.rs: what it does depends on the last digit of
# the destination. It keeps its state next to itself (the test copies it into its own dir).
dir=$(dirname "$0")
text=$(cat)
printf '%s %s %s %s\n' "$EMG_ID" "$EMG_DESTADDR" "$EMG_CONNECTOR" "$text" >> "$dir/runs.txt"
case "$EMG_DESTADDR" in
  *1) echo "sh-$EMG_ID" ;;
  *2) if [ -e "$dir/tried-$EMG_ID" ]; then echo "sh-$EMG_ID"
      else touch "$dir/tried-$EMG_ID"; echo "busy, try later" >&2; exit 75; fi ;;
  *3) echo "no such subscriber" >&2; exit 3 ;;
  *4) if [ -e "$dir/hung-$EMG_ID" ]; then echo "sh-$EMG_ID"
      else touch "$dir/hung-$EMG_ID"; sleep 300 & echo $! > "$dir/child.pid"; wait; fi ;;
  *5) printf 'this is\nnot an id\n' ;;
  *6) cat "$dir/remote-id" ;;
esac

#!/bin/sh
# Seeds fuzz/corpus/{decode,receipt,text} from the annotated fixtures, so that fuzzing
# starts from valid PDUs rather than from nothing.
#
# Annotated hex follows the rules of smpp::fixtures::parse_annotated_hex: everything from `#` to the
# end of a line is a comment, whitespace is ignored, what remains must be an even number
# of hex digits. A fixture that breaks them stops the script.
#
# Usage (from anywhere): fuzz/seed.sh        Idempotent: seeds are named after their fixture.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
fixtures="$here/../fixtures/pdus"
corpus="$here/corpus"
mkdir -p "$corpus/decode" "$corpus/receipt" "$corpus/text"

# annotated hex on stdin -> raw bytes on stdout
hex2bin() {
    digits=$(sed 's/#.*//' | tr -d ' \t\r\n\f\v')
    case "$digits" in
        *[!0-9a-fA-F]*) echo "seed.sh: $1: not a hex digit: $digits" >&2; exit 1 ;;
    esac
    if [ $(( ${#digits} % 2 )) -ne 0 ]; then
        echo "seed.sh: $1: odd number of hex digits (${#digits})" >&2
        exit 1
    fi
    printf '%s' "$digits" | xxd -r -p
}

n=0
for f in "$fixtures"/*.hex "$fixtures"/interop/*.hex; do
    [ -e "$f" ] || continue
    name=$(basename "$f" .hex)
    hex2bin "$f" < "$f" > "$corpus/decode/$name"
    # The text target reads byte 0 as data_coding and the rest as text/UDH octets; whole
    # PDUs give it realistic octets (UDH, UCS-2, GSM) to mutate from.
    cp "$corpus/decode/$name" "$corpus/text/$name"
    n=$((n + 1))
done

# Receipt texts: the Appendix B example and the variants SMSCs send.
i=0
while IFS= read -r line; do
    i=$((i + 1))
    printf '%s' "$line" > "$corpus/receipt/seed-$i"
done <<'EOF'
id:0123456789 sub:001 dlvrd:001 submit date:0610101200 done date:0610101201 stat:DELIVRD err:000 Text:Hello, world: hi
id:7F3A sub:1 dlvrd:0 submit_date:230101120000 done_date:230101120105 stat:UNDELIV err:E12 text:abc
ID:42 SUB:001 DLVRD:001 SUBMIT DATE:2301011200 DONE	DATE:2301011201 delivered err: 0
id:c0ffee-1234 done date:2301011201 EXPIRED err:0000 foo:bar baz
id:1 stat:REJECTD err:001 submit date:0000000000 done date:9912312359 Text:
EOF
# The text target: byte 0 is data_coding, the rest is a short_message (UDH first here).
printf '\000\005\000\003\001\002\001Hello' > "$corpus/text/seed-udh8-gsm"
printf '\010\006\010\004\022\064\002\001\145\345\147\054' > "$corpus/text/seed-udh16-ucs2"
printf '\003caf\351 cr\350me \033e' > "$corpus/text/seed-latin1"
printf '\000\033\145\033\074 euro' > "$corpus/text/seed-gsm-escapes"

echo "seeded $n fixtures into $corpus/{decode,text}, $i receipts into $corpus/receipt"

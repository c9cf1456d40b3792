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
mkdir -p "$corpus/decode" "$corpus/receipt" "$corpus/text" "$corpus/api_line" "$corpus/config"

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


# api_line: every request line docs/api.md shows, and a few with every field.
root="$here/.."
a=0
lines=$(mktemp)
grep -o '{"id":[^`]*"op":[^`]*}' "$root/docs/api.md" | sort -u > "$lines"
cat >> "$lines" <<'EOF'
{"id":"m-1","op":"message.submit","to":"09012345678","text":"hello","from":"SMSGATE","encoding":"gsm7","validity":"10m","client_ref":"order-7","class":"bulk","receipts":false}
{"id":9,"op":"verify.start","to":"+81 90-0000-0001","purpose":"payment","locale":"en-US","channel":"sms_link","link":"https://x.example/v/{token}","code_length":8,"validity":"5m"}
{"id":1.5,"op":"events.subscribe","cursor":18446744073709551615}
{"id":-3,"op":"message.submit","to":"+819012345678","text":"\u00e9\ud83d\ude00 €","encoding":"auto"}
{"id":"x","op":"hello","version":1,"token":"fuzz-token"}
EOF
while IFS= read -r line; do
    a=$((a + 1))
    printf '%s' "$line" > "$corpus/api_line/seed-$a"
done < "$lines"
rm -f "$lines"
for w in id op hello ping message.submit message.status events.subscribe binds.status \
    verify.start verify.check verify.resend verify.cancel verify.status version token \
    to text from encoding validity client_ref class receipts message_id cursor purpose \
    locale channel link code_length verification_id code auto gsm7 otp transactional \
    bulk sms sms_link ja en login; do
    printf '"\\"%s\\""\n' "$w"
done > "$here/api_line.dict"

# config: the embedded default and the examples, a minimal one, and the default with
# environment overrides after a NUL (the config target reads NAME=VALUE lines there).
c=0
for f in "$root"/config/*.toml "$root"/config/examples/*.toml; do
    [ -e "$f" ] || continue
    c=$((c + 1))
    cp "$f" "$corpus/config/$(basename "$f" .toml)"
done
{
    cat "$root/config/smsgate.toml"
    printf '\000CARRIERS__SIM__BINDS__0__WINDOW=50\nAPI__TOKENS__0__RATE=5\nLOG__FILTER=debug\n'
    printf 'ROUTES__0__CARRIERS=["sim"]\nDATA_DIR=/tmp/x\n'
} > "$corpus/config/smsgate-env"
printf 'data_dir = "d"\n[carriers.x]\n[[carriers.x.binds]]\nhost = "h"\nport = 1\nsystem_id = "s"\npassword = "p"\n[[routes]]\nprefix = ""\ncarriers = ["x"]\n' \
    > "$corpus/config/minimal"
c=$((c + 2))
# Key and table names as the documentation and the files write them.
{
    grep -ohE '^[[:space:]]*#?[[:space:]]*[a-z_]+ = ' "$root/docs/configuration.md" \
        "$root"/config/*.toml "$root"/config/examples/*.toml |
        sed -E 's/^[[:space:]]*#?[[:space:]]*//; s/ = $//'
    grep -ohE '^\[+[a-z_.]+\]+' "$root/docs/configuration.md" "$root"/config/*.toml \
        "$root"/config/examples/*.toml
} | sort -u | sed 's/.*/"&"/' > "$here/config.dict"

echo "seeded $n fixtures into $corpus/{decode,text}, $i receipts into $corpus/receipt,"
echo "  $a request lines into $corpus/api_line, $c configurations into $corpus/config;"
echo "  dictionaries $here/api_line.dict and $here/config.dict"

#!/usr/bin/env bash
# A v2 unifiedorder with nothing but bash, md5sum and curl: the README's curl recipe, runnable.
#   scripts/sandbox-curl.sh http://localhost:3100 <mch_id> <appid> <api_key> [notify_url]
# It prints WeChat's XML answer (prepay_id, code_url). Pay it with:
#   curl -s -X POST http://localhost:3100/sandbox/sim/pay -H 'content-type: application/json' -d '{"code_url":"weixin://..."}'
set -euo pipefail
ORIGIN=${1:?origin, e.g. http://localhost:3100}; MCH_ID=${2:?mch_id}; APPID=${3:?appid}; KEY=${4:?api key}
NOTIFY_URL=${5:-http://127.0.0.1:9/notify}
NONCE=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
OUT_TRADE_NO="CURL$(date +%s)${RANDOM}"
# The fields, already in ASCII order of their names; empty values would be left out.
STRING_A="appid=${APPID}&body=curl-test&mch_id=${MCH_ID}&nonce_str=${NONCE}&notify_url=${NOTIFY_URL}&out_trade_no=${OUT_TRADE_NO}&product_id=sku1&spbill_create_ip=127.0.0.1&total_fee=1&trade_type=NATIVE"
SIGN=$(printf '%s' "${STRING_A}&key=${KEY}" | md5sum | cut -d' ' -f1 | tr 'a-f' 'A-F')
curl -s -X POST "${ORIGIN}/pay/unifiedorder" -H 'content-type: text/xml' --data-binary @- <<XML
<xml><appid>${APPID}</appid><body>curl-test</body><mch_id>${MCH_ID}</mch_id><nonce_str>${NONCE}</nonce_str><notify_url>${NOTIFY_URL}</notify_url><out_trade_no>${OUT_TRADE_NO}</out_trade_no><product_id>sku1</product_id><spbill_create_ip>127.0.0.1</spbill_create_ip><total_fee>1</total_fee><trade_type>NATIVE</trade_type><sign>${SIGN}</sign></xml>
XML
echo

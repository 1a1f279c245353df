#!/usr/bin/env bash
# CloudFront's edge with both aws CLIs and curl, against an overcast of its
# own (started with --geoip-header X-Test-Country and an HTTPS listener on a
# free port). One distribution over three python3 origins (files, one that
# answers 500, one that answers the headers its query asks for) covers:
# Miss → Hit → create-invalidation → wait → Miss, reached with
# `curl -H Host:` and with `curl --resolve`; the TTL rules (Cache-Control,
# Expires, MinTTL) as a table; a behaviour with a trusted key group
# (unsigned → 403 MissingKey, `aws cloudfront sign` URL → 200, expired →
# 403; canned and custom policies as cookies, IP and start-date
# conditions); CloudFront Functions (create, test, publish) rewriting `/`
# to `/index.html` on viewer-request and adding a header on
# viewer-response, and one looping until its limit (503); an origin group
# failing over from the 500 origin to the other; a geo blacklist → 403;
# HTTPS with the local CA (signed URLs too) and redirect-to-https → 301.
source "$(dirname "$0")/lib.sh"
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${OVERCAST_BIN:-$root/bin/overcast}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# wait_until WHAT CMD...: polls CMD until it succeeds (10 s at most).
wait_until() {
  local what=$1
  shift
  for _ in $(seq 1 100); do
    "$@" >/dev/null 2>&1 && return
    sleep 0.1
  done
  fail "$what never came up"
}

work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT

port=$(free_port)
https_port=$(free_port)
export OVERCAST_ENDPOINT="http://127.0.0.1:$port"
"$bin" up --addr "127.0.0.1:$port" --data-dir "$work/data" --geoip-header X-Test-Country \
  --cloudfront-https-addr "127.0.0.1:$https_port" >"$work/overcast.log" 2>&1 &
pids+=($!)
wait_until "overcast" curl -fsS "$OVERCAST_ENDPOINT/_overcast/health"

# The good origin serves files; the bad one answers 500 to everything.
mkdir -p "$work/site/private" "$work/site/failover" "$work/site/secure"
echo "hello from the origin" >"$work/site/hello.txt"
echo "the index page" >"$work/site/index.html"
echo "a private file" >"$work/site/private/file.txt"
echo "the second origin" >"$work/site/failover/file.txt"
echo "a page for HTTPS only" >"$work/site/secure/page.txt"
good_port=$(free_port)
bad_port=$(free_port)
echo_port=$(free_port)
python3 -m http.server "$good_port" --bind 127.0.0.1 --directory "$work/site" >/dev/null 2>&1 &
pids+=($!)
python3 - "$bad_port" "$echo_port" >/dev/null 2>&1 <<'PY' &
import http.server, sys, threading, urllib.parse
class Broken(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(500)
        self.send_header("Content-Length", "6")
        self.end_headers()
        self.wfile.write(b"broken")
    do_HEAD = do_GET
class Echo(http.server.BaseHTTPRequestHandler):
    """Answers 200 with each h=Name: value of the query as a header."""
    def do_GET(self):
        self.send_response(200)
        for h in urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query).get("h", []):
            name, value = h.split(": ", 1)
            self.send_header(name, value)
        self.send_header("Content-Length", "4")
        self.end_headers()
        self.wfile.write(b"echo")
bad = http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Broken)
threading.Thread(target=bad.serve_forever, daemon=True).start()
http.server.HTTPServer(("127.0.0.1", int(sys.argv[2])), Echo).serve_forever()
PY
pids+=($!)
wait_until "the good origin" curl -fsS "http://127.0.0.1:$good_port/hello.txt"
wait_until "the bad origin" curl -sS "http://127.0.0.1:$bad_port/"
wait_until "the echo origin" curl -fsS "http://127.0.0.1:$echo_port/"

v2=/usr/bin/aws

# A key group of one public key, for the signed behaviour.
openssl genrsa -traditional -out "$work/private.pem" 2048 2>/dev/null # PKCS#1: the form CLI v1 reads
openssl rsa -in "$work/private.pem" -pubout -out "$work/public.pem" 2>/dev/null
python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
json.dump({"CallerReference": "e2e-edge", "Name": "e2e-edge", "EncodedKey": open(work + "/public.pem").read()},
          open(work + "/public-key.json", "w"))
PY
key_id=$(awsc "$v2" cloudfront create-public-key --public-key-config "file://$work/public-key.json" --query PublicKey.Id --output text)
group_id=$(awsc "$v2" cloudfront create-key-group --key-group-config "Name=e2e-edge,Items=$key_id" --query KeyGroup.Id --output text)

# Two functions: one rewrites / to /index.html, one adds a header. Each is
# tested on its DEVELOPMENT stage, then published.
cat >"$work/rewrite.js" <<'JS'
function handler(event) {
  var request = event.request;
  if (request.uri === '/') {
    request.uri = '/index.html';
  }
  return request;
}
JS
cat >"$work/header.js" <<'JS'
function handler(event) {
  var response = event.response;
  response.headers['x-e2e-function'] = {value: 'viewer-response'};
  return response;
}
JS
cat >"$work/loop.js" <<'JS'
function handler(event) {
  while (true) {}
}
JS
cat >"$work/event.json" <<'JSON'
{"version": "1.0", "context": {"eventType": "viewer-request"}, "viewer": {"ip": "192.0.2.1"},
 "request": {"method": "GET", "uri": "/", "headers": {}, "cookies": {}, "querystring": {}}}
JSON
# Two cache policies for the TTL table, the query string in the key: one
# that caches only what the origin allows, one with MinTTL 600.
declare -A ttl_policy
for p in "ttl 0 0" "min 600 600"; do
  read -r name min default <<<"$p"
  ttl_policy[$name]=$(awsc "$v2" cloudfront create-cache-policy --query CachePolicy.Id --output text --cache-policy-config \
    "{\"Name\": \"e2e-$name\", \"MinTTL\": $min, \"DefaultTTL\": $default, \"MaxTTL\": 3600,
      \"ParametersInCacheKeyAndForwardedToOrigin\": {\"EnableAcceptEncodingGzip\": false,
        \"HeadersConfig\": {\"HeaderBehavior\": \"none\"}, \"CookiesConfig\": {\"CookieBehavior\": \"none\"},
        \"QueryStringsConfig\": {\"QueryStringBehavior\": \"all\"}}}")
done

declare -A function_arn
for fn in rewrite header loop; do
  read -r etag arn < <(awsc "$v2" cloudfront create-function --name "e2e-$fn" \
    --function-config Comment=e2e,Runtime=cloudfront-js-2.0 --function-code "fileb://$work/$fn.js" \
    --query '[ETag,FunctionSummary.FunctionMetadata.FunctionARN]' --output text)
  case $fn in
  rewrite)
    out=$(awsc "$v2" cloudfront test-function --name e2e-rewrite --if-match "$etag" --stage DEVELOPMENT \
      --event-object "fileb://$work/event.json" --query TestResult.FunctionOutput --output text)
    expect_contains "test-function output" "$out" '"uri":"/index.html"'
    ;;
  loop)
    IFS=$'\t' read -r error utilization < <(awsc "$v2" cloudfront test-function --name e2e-loop --if-match "$etag" \
      --event-object "fileb://$work/event.json" --query 'TestResult.[FunctionErrorMessage,ComputeUtilization]' --output text)
    [ "$error" != None ] && [ -n "$error" ] || fail "test-function of an endless loop: no error"
    expect_eq "compute utilization of an endless loop" "$utilization" 100
    ;;
  esac
  stage=$(awsc "$v2" cloudfront publish-function --name "e2e-$fn" --if-match "$etag" \
    --query FunctionSummary.FunctionMetadata.Stage --output text)
  expect_eq "published $fn" "$stage" LIVE
  function_arn[$fn]=$arn
done

cat >"$work/config.json" <<JSON
{
  "CallerReference": "e2e-edge", "Comment": "edge scenarios", "Enabled": true,
  "Origins": {"Quantity": 3, "Items": [
    {"Id": "echo", "DomainName": "127.0.0.1",
     "CustomOriginConfig": {"HTTPPort": $echo_port, "HTTPSPort": 443, "OriginProtocolPolicy": "http-only"}},
    {"Id": "good", "DomainName": "127.0.0.1",
     "CustomOriginConfig": {"HTTPPort": $good_port, "HTTPSPort": 443, "OriginProtocolPolicy": "http-only"}},
    {"Id": "bad", "DomainName": "127.0.0.1",
     "CustomOriginConfig": {"HTTPPort": $bad_port, "HTTPSPort": 443, "OriginProtocolPolicy": "http-only"}}]},
  "OriginGroups": {"Quantity": 1, "Items": [{"Id": "group",
    "FailoverCriteria": {"StatusCodes": {"Quantity": 1, "Items": [500]}},
    "Members": {"Quantity": 2, "Items": [{"OriginId": "bad"}, {"OriginId": "good"}]}}]},
  "DefaultCacheBehavior": {"TargetOriginId": "good", "ViewerProtocolPolicy": "allow-all",
    "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6",
    "FunctionAssociations": {"Quantity": 2, "Items": [
      {"FunctionARN": "${function_arn[rewrite]}", "EventType": "viewer-request"},
      {"FunctionARN": "${function_arn[header]}", "EventType": "viewer-response"}]}},
  "CacheBehaviors": {"Quantity": 6, "Items": [
    {"PathPattern": "/loop/*", "TargetOriginId": "good", "ViewerProtocolPolicy": "allow-all",
     "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6",
     "FunctionAssociations": {"Quantity": 1, "Items": [
       {"FunctionARN": "${function_arn[loop]}", "EventType": "viewer-request"}]}},
    {"PathPattern": "/ttl/*", "TargetOriginId": "echo", "ViewerProtocolPolicy": "allow-all",
     "CachePolicyId": "${ttl_policy[ttl]}"},
    {"PathPattern": "/min/*", "TargetOriginId": "echo", "ViewerProtocolPolicy": "allow-all",
     "CachePolicyId": "${ttl_policy[min]}"},
    {"PathPattern": "/private/*", "TargetOriginId": "good", "ViewerProtocolPolicy": "allow-all",
     "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6",
     "TrustedKeyGroups": {"Enabled": true, "Quantity": 1, "Items": ["$group_id"]}},
    {"PathPattern": "/failover/*", "TargetOriginId": "group", "ViewerProtocolPolicy": "allow-all",
     "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6"},
    {"PathPattern": "/secure/*", "TargetOriginId": "good", "ViewerProtocolPolicy": "redirect-to-https",
     "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6"}]},
  "Restrictions": {"GeoRestriction": {"RestrictionType": "blacklist", "Quantity": 1, "Items": ["KP"]}}
}
JSON
read -r id domain < <(awsc "$v2" cloudfront create-distribution --distribution-config "file://$work/config.json" \
  --query 'Distribution.[Id,DomainName]' --output text)
awsc aws cloudfront wait distribution-deployed --id "$id"

# get ARGS...: "<status> <X-Cache> <body>" of a curl request.
get() {
  local body
  body=$(curl -sS -D "$work/headers" "$@")
  printf '%s %s %s' "$(sed -n '1s/^HTTP[^ ]* \([0-9]*\).*/\1/p' "$work/headers")" \
    "$(tr -d '\r' <"$work/headers" | sed -n 's/^[Xx]-[Cc]ache: \([A-Za-z]*\).*/\1/p')" "$body"
}
# status ARGS...: the status code of a curl request.
status() { curl -sS -o /dev/null -D "$work/headers" -w '%{http_code}' "$@"; }
# header NAME: that header of the last get or status.
header() { tr -d '\r' <"$work/headers" | sed -n "s/^$1: //Ip"; }

echo "  Miss → Hit → invalidate → Miss (curl -H Host, then --resolve)"
by_host=(-H "Host: $domain" "$OVERCAST_ENDPOINT/hello.txt")
by_resolve=(--resolve "$domain:$port:127.0.0.1" "http://$domain:$port/hello.txt")
expect_eq "first request" "$(get "${by_host[@]}")" "200 Miss hello from the origin"
expect_eq "second request" "$(get "${by_resolve[@]}")" "200 Hit hello from the origin"
for cli in "${CLIS[@]}"; do
  inv=$(awsc "$cli" cloudfront create-invalidation --distribution-id "$id" --paths "/hello.txt" --query Invalidation.Id --output text)
  awsc "$cli" cloudfront wait invalidation-completed --distribution-id "$id" --id "$inv"
  expect_eq "after $(cli_tag "$cli")'s invalidation" "$(get "${by_resolve[@]}")" "200 Miss hello from the origin"
  expect_eq "then" "$(get "${by_host[@]}")" "200 Hit hello from the origin"
done

echo "  TTL rules: the second request of each row"
# path, then the origin's caching header: under /ttl/ MinTTL 0, DefaultTTL
# 0, MaxTTL 3600; under /min/ MinTTL and DefaultTTL 600.
while IFS='|' read -r path cache want; do
  target=(-G --data-urlencode "h=$cache" "http://$domain:$port$path")
  [ -n "$cache" ] || target=("http://$domain:$port$path")
  expect_eq "first request of $path '$cache'" "$(get "${target[@]}")" "200 Miss echo"
  expect_eq "second request of $path '$cache'" "$(get "${target[@]}")" "200 $want echo"
done <<'TABLE'
/ttl/none||Miss
/ttl/max-age|Cache-Control: max-age=3600|Hit
/ttl/max-age-0|Cache-Control: max-age=0|Miss
/ttl/s-maxage|Cache-Control: s-maxage=3600, max-age=0|Hit
/ttl/s-maxage-0|Cache-Control: s-maxage=0, max-age=3600|Miss
/ttl/no-store|Cache-Control: no-store|Miss
/ttl/no-cache|Cache-Control: no-cache|Miss
/ttl/private|Cache-Control: private, max-age=3600|Miss
/ttl/expires|Expires: Thu, 01 Jan 2099 00:00:00 GMT|Hit
/ttl/expired|Expires: Thu, 01 Jan 1998 00:00:00 GMT|Miss
/ttl/bad-expires|Expires: 0|Miss
/min/none||Hit
/min/no-store|Cache-Control: no-store|Hit
/min/max-age-0|Cache-Control: max-age=0|Hit
TABLE

echo "  signed URLs with a trusted key group"
url="http://$domain:$port/private/file.txt"
expect_eq "unsigned" "$(get "$url")" "403 Error <?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>MissingKey</Code><Message>Missing Key-Pair-Id query parameter or cookie value</Message></Error>"
for cli in "${CLIS[@]}"; do
  signed=$("$cli" cloudfront sign --url "$url" --key-pair-id "$key_id" --private-key "file://$work/private.pem" --date-less-than 2100-01-01)
  expect_eq "signed by $(cli_tag "$cli")" "$(get "$signed" | cut -d' ' -f1,3-)" "200 a private file"
  expired=$("$cli" cloudfront sign --url "$url" --key-pair-id "$key_id" --private-key "file://$work/private.pem" --date-less-than 2020-01-01)
  got=$(get "$expired")
  expect_eq "expired, signed by $(cli_tag "$cli")" "${got%% *}" 403
  expect_contains "expired body" "$got" "<Code>AccessDenied</Code>"
  tampered=${signed/file.txt/other.txt}
  expect_eq "another path with $(cli_tag "$cli")'s signature" "$(status "$tampered")" 403
done

echo "  signed cookies and custom policies (v2)"
sign() { "$v2" cloudfront sign --url "$url" --key-pair-id "$key_id" --private-key "file://$work/private.pem" "$@"; }
# cookies_of URL: a signed URL's parameters as CloudFront's signed cookies.
cookies_of() {
  python3 -c 'import sys, urllib.parse as u
print("; ".join("CloudFront-%s=%s" % kv for kv in u.parse_qsl(u.urlsplit(sys.argv[1]).query)))' "$1"
}
canned=$(sign --date-less-than 2100-01-01)
expect_eq "canned policy as cookies" "$(status -b "$(cookies_of "$canned")" "$url")" 200
custom=$(sign --date-less-than 2100-01-01 --ip-address 127.0.0.1/32)
expect_contains "custom policy URL" "$custom" "Policy="
expect_eq "custom policy, the viewer's IP" "$(status "$custom")" 200
expect_eq "custom policy as cookies" "$(status -b "$(cookies_of "$custom")" "$url")" 200
expect_eq "custom policy, another IP" "$(status "$(sign --date-less-than 2100-01-01 --ip-address 192.0.2.0/24)")" 403
expect_eq "custom policy, not valid yet" "$(status "$(sign --date-less-than 2100-01-01 --date-greater-than 2099-01-01)")" 403

echo "  functions on viewer-request and viewer-response"
expect_eq "/ rewritten" "$(get "http://$domain:$port/" | cut -d' ' -f1,3-)" "200 the index page"
expect_eq "viewer-response header" "$(header x-e2e-function)" viewer-response

got=$(get "http://$domain:$port/loop/x")
expect_eq "a function over its limit" "${got%% *}" 503
expect_eq "its X-Cache" "$(header x-cache)" "FunctionThrottledError from cloudfront"

echo "  origin group failover"
expect_eq "failover" "$(get "http://$domain:$port/failover/file.txt" | cut -d' ' -f1,3-)" "200 the second origin"

echo "  geo restriction"
got=$(get -H "X-Test-Country: KP" "http://$domain:$port/hello.txt")
expect_eq "blocked country" "${got%% *}" 403
expect_eq "another country" "$(get -H "X-Test-Country: US" "http://$domain:$port/hello.txt" | cut -d' ' -f1,3-)" "200 hello from the origin"

echo "  HTTPS with the local CA, signed URLs over it, redirect-to-https"
curl -fsS "$OVERCAST_ENDPOINT/_overcast/acm/ca.pem" >"$work/ca.pem"
tls=(--cacert "$work/ca.pem" --resolve "$domain:$https_port:127.0.0.1")
expect_eq "HTTPS" "$(get "${tls[@]}" "https://$domain:$https_port/secure/page.txt" | cut -d' ' -f1,3-)" "200 a page for HTTPS only"
https_url="https://$domain:$https_port/private/file.txt"
expect_eq "HTTPS unsigned" "$(status "${tls[@]}" "$https_url")" 403
signed=$("$v2" cloudfront sign --url "$https_url" --key-pair-id "$key_id" --private-key "file://$work/private.pem" --date-less-than 2100-01-01)
expect_eq "HTTPS signed" "$(get "${tls[@]}" "$signed" | cut -d' ' -f1,3-)" "200 a private file"
expect_eq "signed for HTTP, asked over HTTPS" "$(status "${tls[@]}" "${canned/http:\/\/$domain:$port/https://$domain:$https_port}")" 403
expect_eq "HTTP" "$(status "http://$domain:$port/secure/page.txt")" 301
location=$(header location)
expect_eq "redirect Location" "$location" "https://$domain:$https_port/secure/page.txt"
expect_eq "following the redirect" "$(get "${tls[@]}" "$location" | cut -d' ' -f1,3-)" "200 a page for HTTPS only"

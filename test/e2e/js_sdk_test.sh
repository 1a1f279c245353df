#!/usr/bin/env bash
# The AWS SDK for JavaScript v3 against every landed service (js_sdk.mjs):
# S3 path-style (forcePathStyle: every bucket operation is "/<bucket>/"),
# IAM, STS, CloudWatch Logs, SSM, Secrets Manager, ECR and CloudFront (its
# edge too, with URLs and cookies from @aws-sdk/cloudfront-signer). The
# clients are installed with npm, at their latest versions, into a cache
# directory that later runs reuse.
source "$(dirname "$0")/lib.sh"

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "  skip: node and npm are needed for the AWS SDK for JavaScript v3"
  exit 0
fi

packages=(client-s3 client-iam client-sts client-cloudwatch-logs client-ssm client-secrets-manager client-ecr
  client-cloudfront cloudfront-signer)
dir=${OVERCAST_JS_SDK_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/overcast/e2e-js-sdk}
mkdir -p "$dir"
missing=()
for p in "${packages[@]}"; do
  [ -f "$dir/node_modules/@aws-sdk/$p/package.json" ] || missing+=("@aws-sdk/$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  [ -f "$dir/package.json" ] || echo '{"private": true}' >"$dir/package.json"
  (cd "$dir" && npm install --no-audit --no-fund --loglevel=error "${missing[@]}" >/dev/null) ||
    fail "npm install ${missing[*]} into $dir"
fi

# The script resolves its imports from the directory it lies in.
cp "$(dirname "$0")/js_sdk.mjs" "$dir/js_sdk.mjs"
echo "  @aws-sdk/client-s3 $(node -p "require('$dir/node_modules/@aws-sdk/client-s3/package.json').version")"
# --no-warnings: the SDK warns of node versions it will stop supporting.
node --no-warnings "$dir/js_sdk.mjs"

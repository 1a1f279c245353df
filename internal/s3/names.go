package s3

import (
	"net/netip"
	"strings"
)

// maxKeyLen is S3's limit on the UTF-8 length of an object key.
const maxKeyLen = 1024

// validBucketName applies AWS's rules for new general-purpose buckets:
// 3–63 characters of lowercase letters, digits, dots and hyphens, starting
// and ending with a letter or digit, no adjacent dots, not shaped like an
// IP address, and none of the prefixes and suffixes AWS reserves for
// access points, aliases and other bucket kinds.
func validBucketName(name string) bool {
	if len(name) < 3 || len(name) > 63 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
			return false
		}
	}
	if !isAlnum(name[0]) || !isAlnum(name[len(name)-1]) {
		return false
	}
	if strings.Contains(name, "..") {
		return false
	}
	if _, err := netip.ParseAddr(name); err == nil {
		return false
	}
	for _, p := range []string{"xn--", "sthree-", "amzn-s3-demo-"} {
		if strings.HasPrefix(name, p) {
			return false
		}
	}
	for _, s := range []string{"-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"} {
		if strings.HasSuffix(name, s) {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }

// validKey reports the error S3 gives for an unusable object key.
func checkKey(key string) error {
	if key == "" {
		return errInvalidArgument("Object key must not be empty.", "key", "")
	}
	if len(key) > maxKeyLen {
		return errKeyTooLong(key)
	}
	return nil
}

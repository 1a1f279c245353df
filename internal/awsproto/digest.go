package awsproto

import (
	"crypto/md5"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"

	"overcast/internal/sigv4"
)

// checksumSizes are the raw digest lengths of the flexible-checksum
// algorithms a client may send as x-amz-checksum-<alg>.
var checksumSizes = map[string]int{"CRC32": 4, "CRC32C": 4, "CRC64NVME": 8, "SHA1": 20, "SHA256": 32}

// verifyDigests checks a buffered body against the Content-MD5 and
// x-amz-checksum-* headers its client sent: S3 refuses a body that does
// not match them whatever the operation (a bucket policy, a DeleteObjects
// list), not only for uploads, whose streamed bodies S3 checks itself.
func verifyDigests(h http.Header, body []byte) error {
	if v := h.Get("Content-MD5"); v != "" {
		want, err := base64.StdEncoding.DecodeString(v)
		if err != nil || len(want) != md5.Size {
			return &Error{Code: "InvalidDigest", Status: http.StatusBadRequest, Message: "The Content-MD5 you specified was invalid.",
				Fields: []Field{{Name: "Content-MD5", Value: v}}}
		}
		if got := md5.Sum(body); string(got[:]) != string(want) {
			return &Error{Code: "BadDigest", Status: http.StatusBadRequest, Message: "The Content-MD5 you specified did not match what we received.",
				Fields: []Field{{Name: "ExpectedDigest", Value: v}, {Name: "CalculatedDigest", Value: base64.StdEncoding.EncodeToString(got[:])}}}
		}
	}
	for alg, size := range checksumSizes {
		header := "x-amz-checksum-" + strings.ToLower(alg)
		v := h.Get(header)
		if v == "" {
			continue
		}
		want, err := base64.StdEncoding.DecodeString(v)
		if err != nil || len(want) != size {
			return &Error{Code: "InvalidRequest", Status: http.StatusBadRequest, Message: fmt.Sprintf("Value for %s header is invalid.", header)}
		}
		sum, _ := sigv4.NewChecksum(alg) // every key of checksumSizes is an algorithm it knows
		sum.Write(body)
		if string(sum.Sum(nil)) != string(want) {
			return &Error{Code: "BadDigest", Status: http.StatusBadRequest,
				Message: fmt.Sprintf("The %s you specified did not match the calculated checksum.", alg)}
		}
	}
	return nil
}

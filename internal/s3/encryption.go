package s3

import (
	"net/http"

	api "overcast/internal/api/s3"
)

// sseAlgorithms are the server-side encryption algorithms of general
// purpose buckets.
var sseAlgorithms = map[string]bool{"AES256": true, "aws:kms": true, "aws:kms:dsse": true}

// validateEncryption refuses a default encryption configuration S3 would
// refuse: one rule, with a default algorithm S3 knows, and a KMS key only
// for KMS.
func validateEncryption(cfg *api.ServerSideEncryptionConfiguration) error {
	if cfg == nil || len(cfg.Rules) != 1 {
		return errMalformedXML()
	}
	d := cfg.Rules[0].ApplyServerSideEncryptionByDefault
	if d == nil || !sseAlgorithms[deref(d.SSEAlgorithm)] {
		return errMalformedXML()
	}
	if d.KMSMasterKeyID != nil && *d.SSEAlgorithm == "AES256" {
		return s3err(http.StatusBadRequest, "InvalidArgument",
			"a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms or aws:kms:dsse",
			"ArgumentName", "ApplyServerSideEncryptionByDefault")
	}
	return nil
}

// checkSSE refuses an x-amz-server-side-encryption S3 does not support.
func checkSSE(p *string) error {
	if p != nil && !sseAlgorithms[*p] {
		return errInvalidArgument("The encryption method specified is not supported", "x-amz-server-side-encryption", *p)
	}
	return nil
}

package s3

import (
	"fmt"
	"net/http"
	"strconv"

	"overcast/internal/awsproto"
)

// S3's errors, with the messages and extra elements AWS sends. Each
// returns a fresh *awsproto.Error, which the wire layer renders as
// <Error><Code/><Message/>...fields...<RequestId/><HostId/></Error>.

func s3err(status int, code, msg string, fields ...string) *awsproto.Error {
	e := &awsproto.Error{Code: code, Status: status, Message: msg}
	for i := 0; i+1 < len(fields); i += 2 {
		e.Fields = append(e.Fields, awsproto.Field{Name: fields[i], Value: fields[i+1]})
	}
	return e
}

func errNoSuchBucket(bucket string) error {
	return s3err(http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist", "BucketName", bucket)
}

func errNoSuchKey(key string) error {
	return s3err(http.StatusNotFound, "NoSuchKey", "The specified key does not exist.", "Key", key)
}

func errNoSuchVersion(key, version string) error {
	return s3err(http.StatusNotFound, "NoSuchVersion", "The specified version does not exist.", "Key", key, "VersionId", version)
}

func errNoSuchUpload(uploadID string) error {
	return s3err(http.StatusNotFound, "NoSuchUpload",
		"The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.",
		"UploadId", uploadID)
}

func errAccessDenied() error {
	return s3err(http.StatusForbidden, "AccessDenied", "Access Denied")
}

func errInvalidBucketName(bucket string) error {
	return s3err(http.StatusBadRequest, "InvalidBucketName", "The specified bucket is not valid.", "BucketName", bucket)
}

func errKeyTooLong(key string) error {
	return s3err(http.StatusBadRequest, "KeyTooLongError", "Your key is too long",
		"Size", strconv.Itoa(len(key)), "MaxSizeAllowed", strconv.Itoa(maxKeyLen))
}

func errInvalidArgument(msg, name, value string) error {
	return s3err(http.StatusBadRequest, "InvalidArgument", msg, "ArgumentName", name, "ArgumentValue", value)
}

func errInvalidRequest(msg string) error {
	return s3err(http.StatusBadRequest, "InvalidRequest", msg)
}

func errMalformedXML() error {
	return s3err(http.StatusBadRequest, "MalformedXML",
		"The XML you provided was not well-formed or did not validate against our published schema")
}

func errPreconditionFailed(condition string) error {
	return s3err(http.StatusPreconditionFailed, "PreconditionFailed",
		"At least one of the pre-conditions you specified did not hold", "Condition", condition)
}

func errNotModified() error {
	return &awsproto.Error{Code: "NotModified", Status: http.StatusNotModified, Message: "Not Modified"}
}

func errInvalidRange(requested string, size int64) error {
	e := s3err(http.StatusRequestedRangeNotSatisfiable, "InvalidRange", "The requested range is not satisfiable",
		"RangeRequested", requested, "ActualObjectSize", strconv.FormatInt(size, 10))
	e.Header = http.Header{"Content-Range": {fmt.Sprintf("bytes */%d", size)}}
	return e
}

func errBadDigest(expected, calculated string) error {
	return s3err(http.StatusBadRequest, "BadDigest", "The Content-MD5 you specified did not match what we received.",
		"ExpectedDigest", expected, "CalculatedDigest", calculated)
}

func errChecksumMismatch(alg string) error {
	return s3err(http.StatusBadRequest, "BadDigest",
		fmt.Sprintf("The %s you specified did not match the calculated checksum.", alg))
}

func errInvalidDigest(value string) error {
	return s3err(http.StatusBadRequest, "InvalidDigest", "The Content-MD5 you specified was invalid.", "Content-MD5", value)
}

func errMalformedPolicy(msg string) error {
	return s3err(http.StatusBadRequest, "MalformedPolicy", msg)
}

func errMethodNotAllowed(method, resource string) error {
	e := s3err(http.StatusMethodNotAllowed, "MethodNotAllowed", "The specified method is not allowed against this resource.",
		"Method", method, "ResourceType", resource)
	return e
}

func errInvalidTag(msg string) error {
	return s3err(http.StatusBadRequest, "InvalidTag", msg)
}

func errNoSuchConfig(code, msg, bucket string) error {
	return s3err(http.StatusNotFound, code, msg, "BucketName", bucket)
}

func errEntityTooLarge(size, max int64) error {
	return s3err(http.StatusBadRequest, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size",
		"ProposedSize", strconv.FormatInt(size, 10), "MaxSizeAllowed", strconv.FormatInt(max, 10))
}

func errIncompleteBody() error {
	return s3err(http.StatusBadRequest, "IncompleteBody",
		"You did not provide the number of bytes specified by the Content-Length HTTP header")
}

func errInvalidStorageClass(class string) error {
	return s3err(http.StatusBadRequest, "InvalidStorageClass", "The storage class you specified is not valid",
		"StorageClassRequested", class)
}

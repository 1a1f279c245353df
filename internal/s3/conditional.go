package s3

import (
	"strconv"
	"strings"
	"time"
)

// Conditional requests (RFC 7232) and ranges (RFC 7233) as S3 applies them.

// conditions are a request's preconditions.
type conditions struct {
	IfMatch           *string
	IfNoneMatch       *string
	IfModifiedSince   *time.Time
	IfUnmodifiedSince *time.Time
}

// evaluate applies RFC 7232 section 6 in its order: If-Match, else
// If-Unmodified-Since (412 when false); then If-None-Match, else
// If-Modified-Since (304 for reads, 412 for writes). So a true If-Match
// makes a false If-Unmodified-Since irrelevant, and a false If-None-Match
// answers 304 whatever If-Modified-Since says — the two combinations S3's
// documentation spells out. now discards If-Modified-Since dates in the
// future, which the RFC says to ignore.
func (c conditions) evaluate(etag string, modified, now time.Time, read bool) error {
	modified = modified.Truncate(time.Second)
	switch {
	case c.IfMatch != nil:
		if !etagListMatches(*c.IfMatch, etag, false) {
			return errPreconditionFailed("If-Match")
		}
	case c.IfUnmodifiedSince != nil:
		if modified.After(*c.IfUnmodifiedSince) {
			return errPreconditionFailed("If-Unmodified-Since")
		}
	}
	switch {
	case c.IfNoneMatch != nil:
		if etagListMatches(*c.IfNoneMatch, etag, true) {
			if read {
				return errNotModified()
			}
			return errPreconditionFailed("If-None-Match")
		}
	case c.IfModifiedSince != nil && read && !c.IfModifiedSince.After(now):
		if !modified.After(*c.IfModifiedSince) {
			return errNotModified()
		}
	}
	return nil
}

// copySourceConditions are CopyObject's x-amz-copy-source-if-* headers,
// which fail with 412 where a GET would answer 304.
func (c conditions) evaluateCopySource(etag string, modified, now time.Time) error {
	err := c.evaluate(etag, modified, now, true)
	if err != nil && isCode(err, "NotModified") {
		cond := "x-amz-copy-source-If-None-Match"
		if c.IfNoneMatch == nil {
			cond = "x-amz-copy-source-If-Modified-Since"
		}
		return errPreconditionFailed(cond)
	}
	return err
}

// etagListMatches reports whether the header (an ETag list or "*") names
// etag. Weak comparison ignores W/ prefixes; S3 accepts unquoted ETags.
func etagListMatches(header, etag string, weak bool) bool {
	header = strings.TrimSpace(header)
	if header == "*" {
		return true
	}
	etag = strings.Trim(etag, `"`)
	for _, item := range strings.Split(header, ",") {
		item = strings.TrimSpace(item)
		if strings.HasPrefix(item, "W/") {
			if !weak {
				continue
			}
			item = item[2:]
		}
		if strings.Trim(item, `"`) == etag {
			return true
		}
	}
	return false
}

// byteRange is a resolved Range header.
type byteRange struct {
	start, length int64
}

// parseRange resolves a Range header against an object of size bytes. A
// header S3 does not understand (not bytes=, several ranges, first > last)
// is ignored: ok is false and the whole object is served. A range that
// starts beyond the end is InvalidRange (416).
func parseRange(header string, size int64) (r byteRange, ok bool, err error) {
	spec, found := strings.CutPrefix(strings.TrimSpace(header), "bytes=")
	if !found || strings.Contains(spec, ",") {
		return r, false, nil
	}
	first, last, found := strings.Cut(strings.TrimSpace(spec), "-")
	if !found {
		return r, false, nil
	}
	if first == "" {
		n, err := strconv.ParseInt(last, 10, 64)
		if err != nil || n < 0 {
			return r, false, nil
		}
		if n == 0 || size == 0 {
			return r, false, errInvalidRange(header, size)
		}
		n = min(n, size)
		return byteRange{start: size - n, length: n}, true, nil
	}
	start, err := strconv.ParseInt(first, 10, 64)
	if err != nil || start < 0 {
		return r, false, nil
	}
	end := size - 1
	if last != "" {
		e, err := strconv.ParseInt(last, 10, 64)
		if err != nil || e < start {
			return r, false, nil
		}
		end = min(e, size-1)
	}
	if start >= size {
		return r, false, errInvalidRange(header, size)
	}
	return byteRange{start: start, length: end - start + 1}, true, nil
}

func isCode(err error, code string) bool {
	e, ok := err.(interface{ ErrorCode() string })
	return ok && e.ErrorCode() == code
}

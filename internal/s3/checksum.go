package s3

import (
	"crypto/md5"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"strings"

	"overcast/internal/sigv4"
)

// Flexible checksums. S3 computes one for every object: the algorithm the
// client names (header x-amz-checksum-<alg> with the value, or
// x-amz-sdk-checksum-algorithm with the value in an aws-chunked trailer,
// which the gateway verifies), or CRC64NVME by default, as AWS has done
// since 2025. Values are stored and returned with x-amz-checksum-mode:
// ENABLED.

var checksumAlgs = []string{"CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256"}

// checksumLen is the raw length of each algorithm's digest.
var checksumLen = map[string]int{"CRC32": 4, "CRC32C": 4, "CRC64NVME": 8, "SHA1": 20, "SHA256": 32}

const defaultChecksum = "CRC64NVME"

// checksumHeaders are a request's x-amz-checksum-* values, in the order of
// checksumAlgs.
type checksumHeaders [5]*string

// requested works out which checksum a write asks for: the algorithm, and
// its expected value when the client sent it in a header ("" when it comes
// in a trailer, or not at all).
func (h checksumHeaders) requested(sdkAlg *string) (alg, want string, err error) {
	for i, v := range h {
		if v == nil {
			continue
		}
		if alg != "" {
			return "", "", errInvalidRequest("Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.")
		}
		alg, want = checksumAlgs[i], *v
		raw, decErr := base64.StdEncoding.DecodeString(want)
		if decErr != nil || len(raw) != checksumLen[alg] {
			return "", "", errInvalidRequest(fmt.Sprintf("Value for x-amz-checksum-%s header is invalid.", strings.ToLower(alg)))
		}
	}
	if sdkAlg != nil && *sdkAlg != "" {
		a := strings.ToUpper(*sdkAlg)
		if _, ok := checksumLen[a]; !ok {
			return "", "", errInvalidRequest("Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]")
		}
		if alg != "" && alg != a {
			return "", "", errInvalidRequest(fmt.Sprintf("Value for x-amz-checksum-%s header is invalid.", strings.ToLower(a)))
		}
		alg = a
	}
	return alg, want, nil
}

func newHash(alg string) hash.Hash {
	h, err := sigv4.NewChecksum(alg)
	if err != nil {
		panic(err) // callers pass only the algorithms above
	}
	return h
}

// checksumFields points at the five checksum members of an API shape.
type checksumFields struct{ crc32, crc32c, crc64nvme, sha1, sha256 **string }

// set fills the member of c's algorithm (nothing when c is nil).
func (f checksumFields) set(c *checksum) {
	if c == nil {
		return
	}
	v := new(c.Value)
	switch c.Alg {
	case "CRC32":
		*f.crc32 = v
	case "CRC32C":
		*f.crc32c = v
	case "CRC64NVME":
		*f.crc64nvme = v
	case "SHA1":
		*f.sha1 = v
	case "SHA256":
		*f.sha256 = v
	}
}

// get returns the value of alg among the members, or "".
func (f checksumFields) get(alg string) string {
	var p *string
	switch alg {
	case "CRC32":
		p = *f.crc32
	case "CRC32C":
		p = *f.crc32c
	case "CRC64NVME":
		p = *f.crc64nvme
	case "SHA1":
		p = *f.sha1
	case "SHA256":
		p = *f.sha256
	}
	if p == nil {
		return ""
	}
	return *p
}

// contentMD5 decodes a Content-MD5 header: InvalidDigest unless it is 16
// bytes of base64.
func contentMD5(v *string) ([]byte, error) {
	if v == nil {
		return nil, nil
	}
	b, err := base64.StdEncoding.DecodeString(*v)
	if err != nil || len(b) != md5.Size {
		return nil, errInvalidDigest(*v)
	}
	return b, nil
}

// multipartETag is the ETag of a completed upload: the MD5 of the parts'
// binary MD5s, then "-" and the part count.
func multipartETag(partETags []string) string {
	h := md5.New()
	for _, e := range partETags {
		b, _ := hex.DecodeString(e)
		h.Write(b)
	}
	return fmt.Sprintf("%x-%d", h.Sum(nil), len(partETags))
}

// crcPolys are the bit-reflected polynomials of the CRCs S3 can combine.
var crcPolys = map[string]struct {
	poly  uint64
	width int
}{
	"CRC32":     {0xedb88320, 32},
	"CRC32C":    {0x82f63b78, 32},
	"CRC64NVME": {0x9a6c9329ac4bc9b5, 64},
}

// canCombine reports whether alg's full-object checksum can be computed
// from the parts' (the CRCs can; the SHAs only compose).
func canCombine(alg string) bool { _, ok := crcPolys[alg]; return ok }

// combineCRC returns the CRC of A||B from crc(A), crc(B) and len(B), by
// zlib's method (crc32_combine) generalized to 64-bit CRCs: shift crc(A)
// through len(B) zero bytes with a GF(2) matrix, squared per bit of len(B).
func combineCRC(alg string, crcA, crcB uint64, lenB int64) uint64 {
	p := crcPolys[alg]
	if lenB <= 0 {
		return crcA
	}
	even := make([]uint64, p.width)
	odd := make([]uint64, p.width)
	odd[0] = p.poly // the operator for one zero bit
	row := uint64(1)
	for n := 1; n < p.width; n++ {
		odd[n] = row
		row <<= 1
	}
	gf2Square(even, odd) // two zero bits
	gf2Square(odd, even) // four
	for {
		gf2Square(even, odd) // first pass: one zero byte
		if lenB&1 != 0 {
			crcA = gf2Times(even, crcA)
		}
		lenB >>= 1
		if lenB == 0 {
			break
		}
		gf2Square(odd, even)
		if lenB&1 != 0 {
			crcA = gf2Times(odd, crcA)
		}
		lenB >>= 1
		if lenB == 0 {
			break
		}
	}
	return crcA ^ crcB
}

func gf2Times(mat []uint64, vec uint64) uint64 {
	var sum uint64
	for i := 0; vec != 0; i++ {
		if vec&1 != 0 {
			sum ^= mat[i]
		}
		vec >>= 1
	}
	return sum
}

func gf2Square(square, mat []uint64) {
	for n := range mat {
		square[n] = gf2Times(mat, mat[n])
	}
}

// crcValue and crcBytes convert between a CRC and its big-endian digest.
func crcValue(raw []byte) uint64 {
	if len(raw) == 4 {
		return uint64(binary.BigEndian.Uint32(raw))
	}
	return binary.BigEndian.Uint64(raw)
}

func crcBytes(alg string, v uint64) []byte {
	if crcPolys[alg].width == 32 {
		return binary.BigEndian.AppendUint32(nil, uint32(v))
	}
	return binary.BigEndian.AppendUint64(nil, v)
}

// partChecksum is what combining needs of each part.
type partChecksum struct {
	value string // base64
	size  int64
}

// objectChecksum computes a completed upload's checksum from its parts':
// a full-object CRC by combining, or a composite checksum of checksums.
func objectChecksum(alg, typ string, parts []partChecksum) (*checksum, error) {
	if typ == "FULL_OBJECT" {
		var crc uint64
		for i, p := range parts {
			raw, err := base64.StdEncoding.DecodeString(p.value)
			if err != nil {
				return nil, err
			}
			if i == 0 {
				crc = crcValue(raw)
				continue
			}
			crc = combineCRC(alg, crc, crcValue(raw), p.size)
		}
		return &checksum{Alg: alg, Value: base64.StdEncoding.EncodeToString(crcBytes(alg, crc)), Type: "FULL_OBJECT"}, nil
	}
	h := newHash(alg)
	for _, p := range parts {
		raw, err := base64.StdEncoding.DecodeString(p.value)
		if err != nil {
			return nil, err
		}
		h.Write(raw)
	}
	return &checksum{Alg: alg, Value: fmt.Sprintf("%s-%d", base64.StdEncoding.EncodeToString(h.Sum(nil)), len(parts)),
		Type: "COMPOSITE"}, nil
}

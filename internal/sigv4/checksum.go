package sigv4

import (
	"crypto/sha1"
	"crypto/sha256"
	"fmt"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"strings"
)

// crc64NVMEPoly is the CRC-64/NVME polynomial 0xad93d23594c93659 in the
// bit-reversed form hash/crc64 expects; crc64's init and final xor of all
// ones match CRC-64/NVME.
const crc64NVMEPoly = 0x9a6c9329ac4bc9b5

var (
	castagnoli = crc32.MakeTable(crc32.Castagnoli)
	nvme       = crc64.MakeTable(crc64NVMEPoly)
)

// checksumAlgorithms are the S3 flexible-checksum algorithms, by the name S3
// uses in x-amz-checksum-algorithm; the header is "x-amz-checksum-" + lower.
var checksumAlgorithms = [...]string{"CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256"}

// NewChecksum returns a hash for an S3 checksum algorithm: CRC32, CRC32C,
// CRC64NVME, SHA1 or SHA256 (case-insensitive). Sum yields the big-endian
// bytes whose base64 form is the x-amz-checksum-* value.
func NewChecksum(algorithm string) (hash.Hash, error) {
	switch strings.ToUpper(algorithm) {
	case "CRC32":
		return crc32.NewIEEE(), nil
	case "CRC32C":
		return crc32.New(castagnoli), nil
	case "CRC64NVME":
		return crc64.New(nvme), nil
	case "SHA1":
		return sha1.New(), nil
	case "SHA256":
		return sha256.New(), nil
	}
	return nil, fmt.Errorf("sigv4: unknown checksum algorithm %q", algorithm)
}

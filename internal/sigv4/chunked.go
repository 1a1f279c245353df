package sigv4

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"hash"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// Limits of the aws-chunked framing. Chunk data is streamed, so only the
// metadata lines need a bound; AWS's own lines are well under 200 bytes.
const (
	chunkedBufferSize = 64 << 10
	maxChunkLine      = 4 << 10
	maxTrailerLines   = 32
)

// ChunkedReader decodes an aws-chunked request body (Content-Encoding:
// aws-chunked) and verifies it as it goes: chunk signatures chained from the
// seed (the request's own signature), the trailer signature, trailing
// x-amz-checksum-* values and, when known, x-amz-decoded-content-length.
//
// Memory stays constant whatever the chunk size: chunk data is hashed while
// it streams through, so a chunk's bytes are returned before its signature,
// which follows them, can be checked. The final io.EOF is returned only after
// everything is verified; a consumer must treat any other error as a failed
// upload and commit nothing before io.EOF (as it must for a broken connection
// anyway).
type ChunkedReader struct {
	br            *bufio.Reader
	signed        bool // chunk signatures are verified
	trailers      bool // a trailer section follows the final chunk
	trailerSigned bool // the client sends x-amz-trailer-signature
	verifyTrailer bool // and it is verified

	key     [32]byte
	amzDate string
	scope   string
	prevSig [64]byte // hex of the previous signature: seed, then each chunk's

	chunkHash hash.Hash // SHA-256 of the current chunk, signed modes only
	wantSig   [32]byte  // the current chunk's claimed signature
	remaining int64     // data bytes left in the current chunk
	inChunk   bool

	checksums  []namedChecksum
	declared   []string // x-amz-trailer names; nil when unknown
	decodedLen int64    // x-amz-decoded-content-length, -1 when unknown
	total      int64

	trailer http.Header
	err     error  // sticky: io.EOF after a verified end, or the failure
	scratch []byte // string to sign
	macBuf  []byte // HMAC inner block
}

type namedChecksum struct {
	header string // e.g. "x-amz-checksum-crc32c"
	alg    string // e.g. "CRC32C"
	h      hash.Hash
}

// NewChunkedReader decodes body, an aws-chunked payload sent with
// x-amz-content-sha256 set to mode: StreamingPayload, StreamingPayloadTrailer
// or StreamingUnsignedPayloadTrailer. For the signed modes a must be the
// request's verified Auth and secret its secret; a may be nil for
// StreamingUnsignedPayloadTrailer.
//
// Without the request's headers the reader does not know which trailer to
// expect, so in trailer modes it computes every checksum S3 supports; prefer
// NewChunkedRequestReader, which reads x-amz-trailer and
// x-amz-decoded-content-length too.
func NewChunkedReader(body io.Reader, a *Auth, secret, mode string) (*ChunkedReader, error) {
	return newChunkedReader(body, a, secret, mode, nil, -1, true)
}

// NewChunkedRequestReader is NewChunkedReader for r's body, with the mode
// from x-amz-content-sha256, the expected trailers from x-amz-trailer and the
// decoded length from x-amz-decoded-content-length. Call it once Verify has
// accepted r: a's signature seeds the chunk signature chain.
func NewChunkedRequestReader(r *http.Request, a *Auth, secret string) (*ChunkedReader, error) {
	mode, declared, decodedLen, err := chunkedHeaders(r)
	if err != nil {
		return nil, err
	}
	return newChunkedReader(r.Body, a, secret, mode, declared, decodedLen, true)
}

// NewUnverifiedChunkedRequestReader decodes r's aws-chunked body without
// checking chunk or trailer signatures, for when no secret is known (an
// unknown access key accepted outside strict mode). The framing, the decoded
// length and the trailing checksums are still checked.
func NewUnverifiedChunkedRequestReader(r *http.Request) (*ChunkedReader, error) {
	mode, declared, decodedLen, err := chunkedHeaders(r)
	if err != nil {
		return nil, err
	}
	return newChunkedReader(r.Body, nil, "", mode, declared, decodedLen, false)
}

func chunkedHeaders(r *http.Request) (mode string, declared []string, decodedLen int64, err error) {
	mode = r.Header.Get("X-Amz-Content-Sha256")
	decodedLen = -1
	if v := r.Header.Get("X-Amz-Decoded-Content-Length"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return "", nil, 0, newError(KindMalformedChunk, "x-amz-decoded-content-length must be a non-negative integer.")
		}
		decodedLen = n
	}
	// nil (no x-amz-trailer at all) means unknown: every checksum is
	// computed and any trailer accepted, rather than refusing the upload.
	for _, v := range r.Header.Values("X-Amz-Trailer") {
		if declared == nil {
			declared = []string{}
		}
		for _, name := range strings.Split(v, ",") {
			if name = strings.ToLower(strings.TrimSpace(name)); name != "" {
				declared = append(declared, name)
			}
		}
	}
	return mode, declared, decodedLen, nil
}

func checkMode(mode string) error {
	switch mode {
	case StreamingPayload, StreamingPayloadTrailer, StreamingUnsignedPayloadTrailer:
		return nil
	}
	return newError(KindIncomplete, "x-amz-content-sha256 must be "+StreamingPayload+", "+
		StreamingPayloadTrailer+" or "+StreamingUnsignedPayloadTrailer+" for an aws-chunked body.")
}

// newChunkedReader checks signatures only if verify; framing, length and
// checksums always.
func newChunkedReader(body io.Reader, a *Auth, secret, mode string, declared []string, decodedLen int64, verify bool) (*ChunkedReader, error) {
	if err := checkMode(mode); err != nil {
		return nil, err
	}
	c := &ChunkedReader{
		br:            bufio.NewReaderSize(body, chunkedBufferSize),
		declared:      declared,
		decodedLen:    decodedLen,
		trailer:       http.Header{},
		signed:        verify && mode != StreamingUnsignedPayloadTrailer,
		trailers:      mode != StreamingPayload,
		trailerSigned: mode == StreamingPayloadTrailer,
		verifyTrailer: verify && mode == StreamingPayloadTrailer,
	}
	if c.signed {
		var seed [32]byte
		if a == nil || !decodeHex32(&seed, a.Signature) {
			return nil, newError(KindIncomplete, "A signed aws-chunked body needs the request's signature as its seed.")
		}
		c.key = signingKeys.get(secret, a.Date, a.Region, a.Service)
		c.amzDate = string(appendAmzDate(nil, a))
		c.scope = string(appendScope(nil, a))
		hex.Encode(c.prevSig[:], seed[:])
		c.chunkHash = sha256.New()
	}
	if c.trailers {
		for _, alg := range checksumAlgorithms {
			header := "x-amz-checksum-" + strings.ToLower(alg)
			if declared != nil && !slices.Contains(declared, header) {
				continue
			}
			h, _ := NewChecksum(alg)
			c.checksums = append(c.checksums, namedChecksum{header: header, alg: alg, h: h})
		}
	}
	return c, nil
}

// Trailer returns the trailing headers received (without
// x-amz-trailer-signature). It is complete once Read has returned io.EOF.
func (c *ChunkedReader) Trailer() http.Header { return c.trailer }

// Read returns decoded payload bytes only.
func (c *ChunkedReader) Read(p []byte) (int, error) {
	if len(p) == 0 && c.err == nil {
		return 0, nil
	}
	for c.err == nil {
		if !c.inChunk {
			c.err = c.nextChunk()
			continue
		}
		if int64(len(p)) > c.remaining {
			p = p[:c.remaining]
		}
		n, err := c.br.Read(p)
		if n > 0 {
			c.consume(p[:n])
			if c.remaining == 0 {
				// An error here belongs to the next Read: these n bytes
				// were read fine.
				c.err = c.endChunk()
			}
			return n, nil
		}
		if err != nil {
			c.err = truncated(err)
		}
	}
	return 0, c.err
}

func (c *ChunkedReader) consume(b []byte) {
	c.remaining -= int64(len(b))
	c.total += int64(len(b))
	if c.signed {
		c.chunkHash.Write(b)
	}
	for _, cs := range c.checksums {
		cs.h.Write(b)
	}
}

// truncated maps a premature end of the body to KindMalformedChunk and passes
// transport errors through.
func truncated(err error) error {
	if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
		return newError(KindMalformedChunk, msgIncompleteBody)
	}
	return err
}

func malformed(msg string) error { return newError(KindMalformedChunk, msg) }

// nextChunk reads a chunk header "<hex size>[;chunk-signature=<sig>]\r\n".
// For the final, empty chunk it also reads the trailer section and runs the
// end-of-body checks, returning io.EOF when all pass.
func (c *ChunkedReader) nextChunk() error {
	line, err := c.readLine()
	if err != nil {
		return err
	}
	sizeHex, exts, _ := bytes.Cut(line, []byte(";"))
	size, ok := parseChunkSize(sizeHex)
	if !ok {
		return malformed("Invalid chunk size in aws-chunked body.")
	}
	if c.signed {
		sig, ok := chunkSignature(exts)
		if !ok || !decodeHex32(&c.wantSig, sig) {
			return malformed("Missing or malformed chunk-signature in aws-chunked body.")
		}
	}
	if c.decodedLen >= 0 && size > c.decodedLen-c.total {
		return malformed("The aws-chunked body is longer than x-amz-decoded-content-length.")
	}
	if size > 0 {
		c.remaining, c.inChunk = size, true
		if c.signed {
			c.chunkHash.Reset()
		}
		return nil
	}
	if c.signed {
		if err := c.verifyChunk([]byte(emptySHA256)); err != nil {
			return err
		}
	}
	if err := c.readTrailers(); err != nil {
		return err
	}
	if c.decodedLen >= 0 && c.total != c.decodedLen {
		return malformed(msgIncompleteBody)
	}
	return io.EOF
}

// endChunk consumes the CRLF after a chunk's data and checks its signature.
func (c *ChunkedReader) endChunk() error {
	c.inChunk = false
	var crlf [2]byte
	if _, err := io.ReadFull(c.br, crlf[:]); err != nil {
		return truncated(err)
	}
	if crlf != [2]byte{'\r', '\n'} {
		return malformed("Chunk data is not followed by CRLF in aws-chunked body.")
	}
	if !c.signed {
		return nil
	}
	var sum [32]byte
	var hexSum [64]byte
	hex.Encode(hexSum[:], c.chunkHash.Sum(sum[:0]))
	return c.verifyChunk(hexSum[:])
}

// verifyChunk checks the current chunk's signature over
// AWS4-HMAC-SHA256-PAYLOAD, date, scope, previous signature, the hash of
// the empty string (no chunk headers) and the chunk data's hash.
func (c *ChunkedReader) verifyChunk(dataHash []byte) error {
	sts := c.stringToSign("AWS4-HMAC-SHA256-PAYLOAD")
	sts = append(sts, emptySHA256+"\n"...)
	sts = append(sts, dataHash...)
	return c.checkSignature(sts, &c.wantSig)
}

func (c *ChunkedReader) stringToSign(alg string) []byte {
	sts := append(c.scratch[:0], alg...)
	sts = append(sts, '\n')
	sts = append(sts, c.amzDate...)
	sts = append(sts, '\n')
	sts = append(sts, c.scope...)
	sts = append(sts, '\n')
	sts = append(sts, c.prevSig[:]...)
	return append(sts, '\n')
}

// checkSignature compares the signature of sts with want and, on success,
// makes it the previous signature of the chain.
func (c *ChunkedReader) checkSignature(sts []byte, want *[32]byte) error {
	c.scratch = sts
	var got [32]byte
	got, c.macBuf = hmacSHA256(&c.key, sts, c.macBuf)
	if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
		return newError(KindChunkSignatureMismatch, msgChunkSignature)
	}
	hex.Encode(c.prevSig[:], got[:])
	return nil
}

// readTrailers reads what follows the final chunk: nothing but CRLF in
// StreamingPayload mode, trailer lines and a blank line in the trailer modes.
func (c *ChunkedReader) readTrailers() error {
	type field struct{ name, value string }
	var fields []field
	var sig string
	haveSig := false
	for i := 0; ; i++ {
		if i > maxTrailerLines {
			return malformed("Too many trailing headers in aws-chunked body.")
		}
		line, err := c.readLine()
		if err == errEndOfBody {
			// Tolerate a body that ends without its final blank line: all
			// that is signed has been read by then.
			break
		}
		if err != nil {
			return err
		}
		if len(line) == 0 {
			// Some clients end the checksum line with LF and then send a
			// blank CRLF before x-amz-trailer-signature; the blank line ends
			// the section only once the signature (if any) has been seen.
			if c.trailerSigned && !haveSig && len(fields) > 0 {
				continue
			}
			break
		}
		if !c.trailers {
			return malformed("Trailing headers are only allowed with a -TRAILER x-amz-content-sha256.")
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return malformed("Malformed trailing header in aws-chunked body.")
		}
		n := strings.ToLower(string(bytes.TrimSpace(name)))
		v := string(bytes.TrimSpace(value))
		if n == "x-amz-trailer-signature" {
			sig, haveSig = v, true
			continue
		}
		if c.declared != nil && !slices.Contains(c.declared, n) {
			return malformed("The trailing header " + n + " was not declared in x-amz-trailer.")
		}
		fields = append(fields, field{n, v})
		c.trailer.Add(n, v)
	}
	for _, d := range c.declared {
		if !slices.ContainsFunc(fields, func(f field) bool { return f.name == d }) {
			return malformed("The trailing header " + d + " declared in x-amz-trailer was not received.")
		}
	}
	if c.verifyTrailer {
		var want [32]byte
		if !haveSig || !decodeHex32(&want, sig) {
			return newError(KindChunkSignatureMismatch, "The trailing headers of the aws-chunked body are not signed.")
		}
		// Canonical trailers: "name:value\n" each, sorted by name.
		slices.SortStableFunc(fields, func(x, y field) int { return strings.Compare(x.name, y.name) })
		h := sha256.New()
		for _, f := range fields {
			h.Write([]byte(f.name + ":" + f.value + "\n"))
		}
		var sum [32]byte
		sts := c.stringToSign("AWS4-HMAC-SHA256-TRAILER")
		sts = hex.AppendEncode(sts, h.Sum(sum[:0]))
		if err := c.checkSignature(sts, &want); err != nil {
			return err
		}
	}
	for _, f := range fields {
		if err := c.checkChecksum(f.name, f.value); err != nil {
			return err
		}
	}
	return nil
}

func (c *ChunkedReader) checkChecksum(name, value string) error {
	alg, ok := strings.CutPrefix(name, "x-amz-checksum-")
	if !ok {
		return nil
	}
	for _, cs := range c.checksums {
		if cs.header != name {
			continue
		}
		if base64.StdEncoding.EncodeToString(cs.h.Sum(nil)) != value {
			return newError(KindChecksumMismatch, "The "+cs.alg+" you specified did not match the calculated checksum.")
		}
		return nil
	}
	return malformed("Value for " + name + " trailing header is invalid: unsupported checksum algorithm " + strings.ToUpper(alg) + ".")
}

// errEndOfBody is readLine's report of a body that ended cleanly between
// lines; where a line is required it is an incomplete body.
var errEndOfBody = newError(KindMalformedChunk, msgIncompleteBody)

// readLine returns the next CRLF- (or LF-) terminated line without its
// terminator. The slice is only valid until the next read.
func (c *ChunkedReader) readLine() ([]byte, error) {
	line, err := c.br.ReadSlice('\n')
	switch {
	case err == bufio.ErrBufferFull || len(line) > maxChunkLine:
		return nil, malformed("A line of the aws-chunked body is too long.")
	case err == io.EOF && len(line) == 0:
		return nil, errEndOfBody
	case err != nil:
		return nil, truncated(err)
	}
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, nil
}

func parseChunkSize(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 16 {
		return 0, false
	}
	var n uint64
	for _, ch := range b {
		if !isHex(ch) {
			return 0, false
		}
		n = n<<4 | uint64(unhex(ch))
	}
	if n > 1<<62 {
		return 0, false
	}
	return int64(n), true
}

// chunkSignature finds chunk-signature among a chunk's extensions.
func chunkSignature(exts []byte) ([]byte, bool) {
	for len(exts) > 0 {
		var ext []byte
		ext, exts, _ = bytes.Cut(exts, []byte(";"))
		k, v, ok := bytes.Cut(ext, []byte("="))
		if ok && string(bytes.TrimSpace(k)) == "chunk-signature" {
			return bytes.TrimSpace(v), true
		}
	}
	return nil, false
}

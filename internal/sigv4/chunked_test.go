package sigv4

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/google/go-cmp/cmp"
)

// The AWS documentation's chunked upload example ("Signature Calculations for
// the Authorization Header: Transferring Payload in Multiple Chunks"):
// 66560 bytes of 'a' in chunks of 65536, 1024 and 0 bytes.
const (
	docAccessKey = "AKIAIOSFODNN7EXAMPLE"
	docSecret    = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	docSeed      = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
	docSigned    = "content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class"
)

var (
	docDate       = time.Date(2013, 5, 24, 0, 0, 0, 0, time.UTC)
	docChunkSigs  = [3]string{"ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648", "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497", "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9"}
	docPayload    = strings.Repeat("a", 66560)
	docAuthHeader = "AWS4-HMAC-SHA256 Credential=" + docAccessKey + "/20130524/us-east-1/s3/aws4_request,SignedHeaders=" + docSigned + ",Signature=" + docSeed
)

func docBody(sigs [3]string, trailer string) string {
	return fmt.Sprintf("10000;chunk-signature=%s\r\n%s\r\n400;chunk-signature=%s\r\n%s\r\n0;chunk-signature=%s\r\n%s\r\n",
		sigs[0], docPayload[:65536], sigs[1], docPayload[65536:], sigs[2], trailer)
}

func docRequest(t testing.TB, base, body string) *http.Request {
	t.Helper()
	req, err := http.NewRequest("PUT", base+"/examplebucket/chunkObject.txt", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Host = "s3.amazonaws.com"
	req.Header.Set("X-Amz-Date", "20130524T000000Z")
	req.Header.Set("X-Amz-Storage-Class", "REDUCED_REDUNDANCY")
	req.Header.Set("X-Amz-Content-Sha256", StreamingPayload)
	req.Header.Set("Content-Encoding", "aws-chunked")
	req.Header.Set("X-Amz-Decoded-Content-Length", "66560")
	return req
}

// The SDK signer, given the documented request, must produce the
// documented seed signature: both our test request and the vector are right.
func TestAWSChunkedExampleSeedMatchesSDK(t *testing.T) {
	req := docRequest(t, "http://s3.amazonaws.com", docBody(docChunkSigs, ""))
	if req.ContentLength != 66824 {
		t.Fatalf("got Content-Length %d, want the documented 66824", req.ContentLength)
	}
	creds := aws.Credentials{AccessKeyID: docAccessKey, SecretAccessKey: docSecret}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, StreamingPayload, "s3", "us-east-1", docDate,
		func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true }); err != nil {
		t.Fatal(err)
	}
	if got, want := req.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential="+docAccessKey+"/20130524/us-east-1/s3/aws4_request, SignedHeaders="+docSigned+", Signature="+docSeed; got != want {
		t.Errorf("got Authorization %q, want %q", got, want)
	}
}

// The documented request, with the documented Authorization header, through
// a real server: the seed verifies and every chunk signature verifies.
func TestAWSChunkedExample(t *testing.T) {
	srv := startVerifyServer(t, docDate.Add(time.Minute))
	testSecrets[docAccessKey] = docSecret
	t.Cleanup(func() { delete(testSecrets, docAccessKey) })

	corruptData := docBody(docChunkSigs, "")
	i := strings.Index(corruptData, "\r\naaaa") + 2
	corruptData = corruptData[:i] + "b" + corruptData[i+1:]
	wrongSig := docChunkSigs
	wrongSig[1] = docChunkSigs[0]
	swapped := docChunkSigs
	swapped[0], swapped[1] = docChunkSigs[1], docChunkSigs[0]
	for _, tt := range []struct {
		name string
		body string
		want verdict
	}{
		{"as documented", docBody(docChunkSigs, ""), verdict{Kind: "OK", AccessKeyID: docAccessKey, Body: summarize([]byte(docPayload))}},
		{"payload byte changed", corruptData, verdict{Kind: "ChunkSignatureMismatch", Message: msgChunkSignature}},
		{"second chunk signature wrong", docBody(wrongSig, ""), verdict{Kind: "ChunkSignatureMismatch", Message: msgChunkSignature}},
		{"chunk signatures swapped", docBody(swapped, ""), verdict{Kind: "ChunkSignatureMismatch", Message: msgChunkSignature}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req := docRequest(t, srv.URL, tt.body)
			req.Header.Set("Authorization", docAuthHeader)
			if diff := cmp.Diff(tt.want, send(t, req)); diff != "" {
				t.Errorf("verdict mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// The AWS documentation's trailer example (sigv4-streaming-trailers): the same
// payload with STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER and a CRC32C
// trailer. Its seed comes from request headers we do not reproduce, so the
// chunk chain starts from the documented seed.
func TestAWSTrailerExample(t *testing.T) {
	const seed = "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e"
	sigs := [3]string{"b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2", "1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7", "2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992"}
	const trailerSig = "d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435"
	auth := &Auth{Method: HeaderAuth, AccessKeyID: docAccessKey, Date: docDate, Region: "us-east-1", Service: "s3", Signature: seed}
	good := docBody(sigs, "x-amz-checksum-crc32c:sOO8/Q==\r\nx-amz-trailer-signature:"+trailerSig+"\r\n")
	for _, tt := range []struct {
		name     string
		body     string
		wantKind Kind // KindMissing: success
	}{
		{"as documented", good, KindMissing},
		{"checksum line ended by LF then blank CRLF", strings.Replace(good, "==\r\n", "==\n\r\n", 1), KindMissing},
		{"trailer signature wrong", strings.Replace(good, "trailer-signature:d8", "trailer-signature:d9", 1), KindChunkSignatureMismatch},
		{"trailer value changed", strings.Replace(good, "sOO8/Q==", "sOO8/R==", 1), KindChunkSignatureMismatch},
		{"trailer signature missing", strings.Replace(good, "x-amz-trailer-signature:"+trailerSig+"\r\n", "", 1), KindChunkSignatureMismatch},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := NewChunkedReader(strings.NewReader(tt.body), auth, docSecret, StreamingPayloadTrailer)
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(c)
			if tt.wantKind != KindMissing {
				if kindOf(err) != tt.wantKind {
					t.Fatalf("got error %v, want kind %v", err, tt.wantKind)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != docPayload {
				t.Errorf("got %d decoded bytes, want the %d documented ones", len(got), len(docPayload))
			}
			if got, want := c.Trailer(), (http.Header{"X-Amz-Checksum-Crc32c": {"sOO8/Q=="}}); !cmp.Equal(got, want) {
				t.Errorf("got trailer %v, want %v", got, want)
			}
		})
	}
}

func kindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return -1
}

// chunkEncoder is an independent aws-chunked encoder (crypto/hmac, nothing
// from the package under test) that streams: it holds one chunk at a time.
type chunkEncoder struct {
	src         io.Reader
	mode        string
	key         []byte
	amzDate     string
	scope       string
	prev        string
	chunk       []byte
	out         bytes.Buffer
	checksums   []string // algorithms sent as trailers
	hashes      []hash.Hash
	done        bool
	editTrailer func(name, value string) string // changes a value before signing
}

func newChunkEncoder(src io.Reader, mode string, chunkSize int, checksums ...string) *chunkEncoder {
	e := &chunkEncoder{
		src: src, mode: mode, chunk: make([]byte, chunkSize), checksums: checksums,
		key:     testSigningKey(testSecrets["AKIDEXAMPLE"], signTime, "us-east-1", "s3"),
		amzDate: signTime.Format(amzDateLayout),
		scope:   signTime.Format("20060102") + "/us-east-1/s3/aws4_request",
		prev:    testSeed,
	}
	e.out.Grow(chunkSize + 1024)
	for _, alg := range checksums {
		h, err := NewChecksum(alg)
		if err != nil {
			panic(err)
		}
		e.hashes = append(e.hashes, h)
	}
	return e
}

// testSeed stands for a verified request signature.
const testSeed = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"

func testAuth() *Auth {
	return &Auth{Method: HeaderAuth, AccessKeyID: "AKIDEXAMPLE", Date: signTime, Region: "us-east-1", Service: "s3", Signature: testSeed}
}

func testSigningKey(secret string, t time.Time, region, service string) []byte {
	k := []byte("AWS4" + secret)
	for _, s := range []string{t.Format("20060102"), region, service, "aws4_request"} {
		m := hmac.New(sha256.New, k)
		m.Write([]byte(s))
		k = m.Sum(nil)
	}
	return k
}

func (e *chunkEncoder) sign(kind, last string) string {
	m := hmac.New(sha256.New, e.key)
	io.WriteString(m, kind+"\n"+e.amzDate+"\n"+e.scope+"\n"+e.prev+"\n"+last)
	e.prev = hex.EncodeToString(m.Sum(nil))
	return e.prev
}

func (e *chunkEncoder) writeChunk(data []byte) {
	signed := e.mode != StreamingUnsignedPayloadTrailer
	fmt.Fprintf(&e.out, "%x", len(data))
	if signed {
		sum := sha256.Sum256(data)
		fmt.Fprintf(&e.out, ";chunk-signature=%s", e.sign("AWS4-HMAC-SHA256-PAYLOAD", emptySHA256+"\n"+hex.EncodeToString(sum[:])))
	}
	e.out.WriteString("\r\n")
	if len(data) > 0 {
		e.out.Write(data)
		e.out.WriteString("\r\n")
	}
}

func (e *chunkEncoder) Read(p []byte) (int, error) {
	for e.out.Len() == 0 {
		if e.done {
			return 0, io.EOF
		}
		e.out.Reset() // reuse the drained buffer instead of appending past it
		n, err := io.ReadFull(e.src, e.chunk)
		if n > 0 {
			for _, h := range e.hashes {
				h.Write(e.chunk[:n])
			}
			e.writeChunk(e.chunk[:n])
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			e.finish()
		} else if err != nil {
			return 0, err
		}
	}
	return e.out.Read(p)
}

func (e *chunkEncoder) finish() {
	e.done = true
	e.writeChunk(nil)
	if e.mode == StreamingPayload {
		e.out.WriteString("\r\n")
		return
	}
	var canonical strings.Builder
	type kv struct{ k, v string }
	var trailers []kv
	for i, alg := range e.checksums {
		name := "x-amz-checksum-" + strings.ToLower(alg)
		value := base64.StdEncoding.EncodeToString(e.hashes[i].Sum(nil))
		if e.editTrailer != nil {
			value = e.editTrailer(name, value)
		}
		trailers = append(trailers, kv{name, value})
	}
	sort.Slice(trailers, func(i, j int) bool { return trailers[i].k < trailers[j].k })
	for _, t := range trailers {
		fmt.Fprintf(&e.out, "%s:%s\r\n", t.k, t.v)
		canonical.WriteString(t.k + ":" + t.v + "\n")
	}
	if e.mode == StreamingPayloadTrailer {
		sum := sha256.Sum256([]byte(canonical.String()))
		fmt.Fprintf(&e.out, "x-amz-trailer-signature:%s\r\n", e.sign("AWS4-HMAC-SHA256-TRAILER", hex.EncodeToString(sum[:])))
	}
	e.out.WriteString("\r\n")
}

func encodeChunked(t testing.TB, payload []byte, mode string, chunkSize int, checksums ...string) []byte {
	t.Helper()
	b, err := io.ReadAll(newChunkEncoder(bytes.NewReader(payload), mode, chunkSize, checksums...))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func randomPayload(n int) []byte {
	r := rand.New(rand.NewPCG(uint64(n), 42))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// chunkedRequest builds the request headers a client sends with a chunked
// body, so NewChunkedRequestReader sees the declared trailer and length.
func chunkedRequest(body []byte, mode string, decodedLen int, trailers ...string) *http.Request {
	r := httptest.NewRequest("PUT", "/bucket/key", bytes.NewReader(body))
	r.Header.Set("X-Amz-Content-Sha256", mode)
	r.Header.Set("Content-Encoding", "aws-chunked")
	r.Header.Set("X-Amz-Decoded-Content-Length", strconv.Itoa(decodedLen))
	if len(trailers) > 0 {
		r.Header.Set("X-Amz-Trailer", strings.Join(trailers, ","))
	}
	return r
}

func TestChunkedReaderModes(t *testing.T) {
	modes := []string{StreamingPayload, StreamingPayloadTrailer, StreamingUnsignedPayloadTrailer}
	for _, mode := range modes {
		for _, alg := range []string{"", "CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256"} {
			if (mode == StreamingPayload) != (alg == "") {
				continue
			}
			for _, size := range []int{0, 1, 8192, 200_000} {
				name := fmt.Sprintf("%s/%s/%d", mode, alg, size)
				t.Run(name, func(t *testing.T) {
					payload := randomPayload(size)
					var algs, headers []string
					if alg != "" {
						algs = []string{alg}
						headers = []string{"x-amz-checksum-" + strings.ToLower(alg)}
					}
					body := encodeChunked(t, payload, mode, 64<<10, algs...)

					// With the request's declarations.
					c, err := NewChunkedRequestReader(chunkedRequest(body, mode, size, headers...), testAuth(), testSecrets["AKIDEXAMPLE"])
					if err != nil {
						t.Fatal(err)
					}
					got, err := io.ReadAll(c)
					if err != nil {
						t.Fatalf("got error %v, want none", err)
					}
					if !bytes.Equal(got, payload) {
						t.Fatalf("got %d decoded bytes, want %d equal to the payload", len(got), len(payload))
					}
					var want http.Header
					if alg != "" {
						h, _ := NewChecksum(alg)
						h.Write(payload)
						want = http.Header{http.CanonicalHeaderKey(headers[0]): {base64.StdEncoding.EncodeToString(h.Sum(nil))}}
					}
					if diff := cmp.Diff(want, c.Trailer(), cmp.Comparer(func(a, b http.Header) bool {
						return len(a) == 0 && len(b) == 0 || cmp.Equal(map[string][]string(a), map[string][]string(b))
					})); diff != "" {
						t.Errorf("trailer mismatch (-want +got):\n%s", diff)
					}

					// Without them, one byte at a time on both sides.
					c, err = NewChunkedReader(iotest.OneByteReader(bytes.NewReader(body)), testAuth(), testSecrets["AKIDEXAMPLE"], mode)
					if err != nil {
						t.Fatal(err)
					}
					if size <= 8192 {
						if err := iotest.TestReader(c, payload); err != nil {
							t.Error(err)
						}
					}
				})
			}
		}
	}
}

func TestChunkedReaderRejects(t *testing.T) {
	payload := randomPayload(150_000)
	secret := testSecrets["AKIDEXAMPLE"]
	flipData := func(b []byte) []byte {
		b = bytes.Clone(b)
		i := bytes.Index(b, []byte("\r\n")) + 2 + 100 // inside the first chunk's data
		b[i] ^= 0x40
		return b
	}
	replace := func(old, new string) func([]byte) []byte {
		return func(b []byte) []byte { return bytes.Replace(b, []byte(old), []byte(new), 1) }
	}
	cut := func(n int) func([]byte) []byte { return func(b []byte) []byte { return b[:len(b)-n] } }
	badChecksum := func(e *chunkEncoder) { e.editTrailer = func(_, v string) string { return "AAAA" + v[4:] } }

	for _, tt := range []struct {
		name     string
		mode     string
		algs     []string
		declared []string // x-amz-trailer; nil: NewChunkedReader without request
		decoded  int      // x-amz-decoded-content-length when declared != nil
		encoder  func(*chunkEncoder)
		corrupt  func([]byte) []byte
		wantKind Kind
	}{
		{name: "signed: data changed", mode: StreamingPayload, corrupt: flipData, wantKind: KindChunkSignatureMismatch},
		{name: "signed: chunk signature changed", mode: StreamingPayload, corrupt: replace(";chunk-signature=", ";chunk-signature=0"), wantKind: KindMalformedChunk},
		{name: "signed: chunk signature missing", mode: StreamingPayload, corrupt: replace(";chunk-signature=", ";x="), wantKind: KindMalformedChunk},
		{name: "signed: truncated in data", mode: StreamingPayload, corrupt: cut(60_000), wantKind: KindMalformedChunk},
		{name: "signed: truncated in final chunk header", mode: StreamingPayload, corrupt: cut(20), wantKind: KindMalformedChunk},
		{name: "signed: no final chunk", mode: StreamingPayload, corrupt: func(b []byte) []byte { return b[:bytes.LastIndex(b, []byte("0;chunk-signature"))] }, wantKind: KindMalformedChunk},
		{name: "signed: bad chunk size", mode: StreamingPayload, corrupt: func(b []byte) []byte { return append([]byte("x"), b[5:]...) }, wantKind: KindMalformedChunk},
		{name: "signed: chunk size too big", mode: StreamingPayload, corrupt: func(b []byte) []byte { return append([]byte("fffffffffffffffff"), b[5:]...) }, wantKind: KindMalformedChunk},
		{name: "signed: data not followed by CRLF", mode: StreamingPayload, corrupt: replace("\r\n1000", "\n\n1000"), wantKind: KindMalformedChunk},
		{name: "signed: trailer in non-trailer mode", mode: StreamingPayload, corrupt: func(b []byte) []byte { return append(b[:len(b)-2], "x-amz-checksum-crc32:AAAAAA==\r\n\r\n"...) }, wantKind: KindMalformedChunk},
		{name: "signed: decoded length short", mode: StreamingPayload, declared: []string{}, decoded: 150_001, wantKind: KindMalformedChunk},
		{name: "signed: decoded length long", mode: StreamingPayload, declared: []string{}, decoded: 149_999, wantKind: KindMalformedChunk},
		{name: "signed trailer: data changed", mode: StreamingPayloadTrailer, algs: []string{"CRC32"}, corrupt: flipData, wantKind: KindChunkSignatureMismatch},
		{name: "signed trailer: value changed after signing", mode: StreamingPayloadTrailer, algs: []string{"SHA256"}, corrupt: replace("x-amz-checksum-sha256:", "x-amz-checksum-sha256:A"), wantKind: KindChunkSignatureMismatch},
		{name: "signed trailer: signed wrong checksum", mode: StreamingPayloadTrailer, algs: []string{"CRC64NVME"}, encoder: badChecksum, wantKind: KindChecksumMismatch},
		{name: "signed trailer: signature missing", mode: StreamingPayloadTrailer, algs: []string{"CRC32C"}, corrupt: replace("x-amz-trailer-signature:", "x-amz-trailer-signaturf:"), wantKind: KindChunkSignatureMismatch},
		{name: "unsigned trailer: wrong checksum", mode: StreamingUnsignedPayloadTrailer, algs: []string{"CRC32"}, encoder: badChecksum, wantKind: KindChecksumMismatch},
		{name: "unsigned trailer: data changed", mode: StreamingUnsignedPayloadTrailer, algs: []string{"SHA1"}, corrupt: flipData, wantKind: KindChecksumMismatch},
		{name: "unsigned trailer: data changed, declared", mode: StreamingUnsignedPayloadTrailer, algs: []string{"CRC32C"}, declared: []string{"x-amz-checksum-crc32c"}, decoded: 150_000, corrupt: flipData, wantKind: KindChecksumMismatch},
		{name: "unsigned trailer: undeclared trailer", mode: StreamingUnsignedPayloadTrailer, algs: []string{"CRC32"}, declared: []string{"x-amz-checksum-crc32c"}, decoded: 150_000, wantKind: KindMalformedChunk},
		{name: "unsigned trailer: declared trailer missing", mode: StreamingUnsignedPayloadTrailer, declared: []string{"x-amz-checksum-crc32"}, decoded: 150_000, wantKind: KindMalformedChunk},
		{name: "unsigned trailer: unknown checksum", mode: StreamingUnsignedPayloadTrailer, algs: []string{"CRC32"}, corrupt: replace("x-amz-checksum-crc32:", "x-amz-checksum-md5:"), wantKind: KindMalformedChunk},
		{name: "unsigned trailer: malformed trailer line", mode: StreamingUnsignedPayloadTrailer, algs: []string{"CRC32"}, corrupt: replace("x-amz-checksum-crc32:", "x-amz-checksum-crc32 "), wantKind: KindMalformedChunk},
		{name: "unsigned trailer: truncated trailer", mode: StreamingUnsignedPayloadTrailer, algs: []string{"SHA256"}, corrupt: cut(10), wantKind: KindMalformedChunk},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newChunkEncoder(bytes.NewReader(payload), tt.mode, 64<<10, tt.algs...)
			if tt.encoder != nil {
				tt.encoder(e)
			}
			body, err := io.ReadAll(e)
			if err != nil {
				t.Fatal(err)
			}
			if tt.corrupt != nil {
				body = tt.corrupt(body)
			}
			var c *ChunkedReader
			if tt.declared != nil {
				c, err = NewChunkedRequestReader(chunkedRequest(body, tt.mode, tt.decoded, tt.declared...), testAuth(), secret)
			} else {
				c, err = NewChunkedReader(bytes.NewReader(body), testAuth(), secret, tt.mode)
			}
			if err != nil {
				t.Fatal(err)
			}
			_, err = io.ReadAll(c)
			if got := kindOf(err); got != tt.wantKind {
				t.Fatalf("got error %v (kind %v), want kind %v", err, got, tt.wantKind)
			}
			// The failure is sticky.
			if _, again := c.Read(make([]byte, 10)); again != err {
				t.Errorf("got %v on the next Read, want the same error %v", again, err)
			}
		})
	}
}

func TestChunkedReaderWrongSecret(t *testing.T) {
	body := encodeChunked(t, randomPayload(1000), StreamingPayload, 64<<10)
	c, err := NewChunkedReader(bytes.NewReader(body), testAuth(), "not the secret", StreamingPayload)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(c); kindOf(err) != KindChunkSignatureMismatch {
		t.Errorf("got error %v, want KindChunkSignatureMismatch", err)
	}
}

func TestNewChunkedReaderErrors(t *testing.T) {
	for _, tt := range []struct {
		name string
		auth *Auth
		mode string
	}{
		{"unknown mode", testAuth(), "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD"},
		{"plain hash", testAuth(), emptySHA256},
		{"signed mode without auth", nil, StreamingPayload},
		{"signed mode with a bad seed", &Auth{Signature: "xyz"}, StreamingPayloadTrailer},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewChunkedReader(strings.NewReader(""), tt.auth, "secret", tt.mode)
			if kindOf(err) != KindIncomplete {
				t.Errorf("got error %v, want KindIncomplete", err)
			}
		})
	}
	if _, err := NewChunkedReader(strings.NewReader(""), nil, "", StreamingUnsignedPayloadTrailer); err != nil {
		t.Errorf("unsigned trailer mode without auth: got error %v, want none", err)
	}
}

// A transport error is passed through as is, not reported as a client fault.
func TestChunkedReaderPassesReadErrors(t *testing.T) {
	boom := errors.New("connection reset")
	body := encodeChunked(t, randomPayload(100_000), StreamingPayload, 64<<10)
	c, err := NewChunkedReader(io.MultiReader(bytes.NewReader(body[:70_000]), iotest.ErrReader(boom)), testAuth(), testSecrets["AKIDEXAMPLE"], StreamingPayload)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(c); err != boom {
		t.Errorf("got error %v, want %v", err, boom)
	}
}

// The decoder's memory must not grow with the chunk size: 64 MiB in 4 MiB
// chunks must allocate far less than one chunk.
func TestChunkedReaderMemoryIsFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 64 MiB")
	}
	const total, chunkSize = 64 << 20, 4 << 20
	for _, mode := range []string{StreamingPayload, StreamingPayloadTrailer, StreamingUnsignedPayloadTrailer} {
		t.Run(mode, func(t *testing.T) {
			var algs []string
			if mode != StreamingPayload {
				algs = []string{"CRC32C"}
			}
			enc := newChunkEncoder(io.LimitReader(zeroReader{}, total), mode, chunkSize, algs...)
			// Fill the encoder's own buffers before measuring.
			first := make([]byte, 16)
			if _, err := io.ReadFull(enc, first); err != nil {
				t.Fatal(err)
			}
			body := io.MultiReader(bytes.NewReader(first), enc)
			c, err := NewChunkedReader(body, testAuth(), testSecrets["AKIDEXAMPLE"], mode)
			if err != nil {
				t.Fatal(err)
			}
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			n, err := io.Copy(io.Discard, c)
			runtime.ReadMemStats(&after)
			if err != nil || n != total {
				t.Fatalf("got %d bytes, error %v; want %d, none", n, err, total)
			}
			alloc := after.TotalAlloc - before.TotalAlloc
			t.Logf("decoded %d MiB in %d MiB chunks with %d KiB allocated (decoder and test encoder)", total>>20, chunkSize>>20, alloc>>10)
			if alloc > 1<<20 {
				t.Errorf("decoding %d MiB in %d MiB chunks allocated %d KiB, want under 1 MiB", total>>20, chunkSize>>20, alloc>>10)
			}
		})
	}
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func TestHashCheckingReader(t *testing.T) {
	body := []byte("the body")
	for _, tt := range []struct {
		name     string
		expected string
		wantKind Kind // KindMissing: success
	}{
		{"matching", HashHex(body), KindMissing},
		{"matching uppercase", strings.ToUpper(HashHex(body)), KindMissing},
		{"different", HashHex([]byte("another body")), KindContentSHA256Mismatch},
		{"not a hash", "UNSIGNED-PAYLOAD", KindContentSHA256Mismatch},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := io.ReadAll(NewHashCheckingReader(iotest.HalfReader(bytes.NewReader(body)), tt.expected))
			if tt.wantKind == KindMissing {
				if err != nil || !bytes.Equal(got, body) {
					t.Errorf("got %q, %v; want %q, no error", got, err, body)
				}
				return
			}
			if kindOf(err) != tt.wantKind {
				t.Errorf("got error %v, want kind %v", err, tt.wantKind)
			}
		})
	}
}

func TestValidPayloadHash(t *testing.T) {
	for _, tt := range []struct {
		value string
		want  bool
	}{
		{"", true},
		{UnsignedPayload, true},
		{StreamingPayload, true},
		{StreamingUnsignedPayloadTrailer, true},
		{"STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER", true},
		{HashHex([]byte("x")), true},
		{strings.ToUpper(HashHex([]byte("x"))), true},
		{"bogus", false},
		{"unsigned-payload", false},
		{"STREAMING-PAYLOAD", false},
		{HashHex([]byte("x"))[:63], false},
		{HashHex([]byte("x"))[:63] + "g", false},
		{"tjnVEQ5UTP/DL91eAGOmew==", false}, // a Content-MD5 in the wrong header
	} {
		if got := ValidPayloadHash(tt.value); got != tt.want {
			t.Errorf("ValidPayloadHash(%q): got %v, want %v", tt.value, got, tt.want)
		}
	}
}

// An S3-style streaming upload end to end: the SDK signs the headers (the
// seed), our encoder chains the chunks from it, a real server decodes.
func TestChunkedUploadThroughServer(t *testing.T) {
	srv := startVerifyServer(t, signTime)
	payload := randomPayload(300_000)
	for _, mode := range chunkedModes {
		t.Run(mode, func(t *testing.T) {
			var algs []string
			header := http.Header{
				"Content-Encoding":             {"aws-chunked"},
				"X-Amz-Decoded-Content-Length": {strconv.Itoa(len(payload))},
				"X-Amz-Content-Sha256":         {mode},
			}
			if mode != StreamingPayload {
				algs = []string{"CRC64NVME"}
				header.Set("X-Amz-Trailer", "x-amz-checksum-crc64nvme")
			}
			encodedLen := len(encodeChunked(t, payload, mode, 64<<10, algs...))
			req, err := http.NewRequest("PUT", srv.URL+"/bucket/big%20object", nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header = header
			req.ContentLength = int64(encodedLen)
			creds := aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: testSecrets["AKIDEXAMPLE"]}
			if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, mode, "s3", "us-east-1", signTime,
				func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true }); err != nil {
				t.Fatal(err)
			}
			authz := req.Header.Get("Authorization")
			enc := newChunkEncoder(bytes.NewReader(payload), mode, 64<<10, algs...)
			enc.prev = authz[strings.LastIndex(authz, "=")+1:]
			body, err := io.ReadAll(enc)
			if err != nil {
				t.Fatal(err)
			}
			req.Body = io.NopCloser(bytes.NewReader(body))

			want := verdict{Kind: "OK", AccessKeyID: "AKIDEXAMPLE", Body: summarize(payload)}
			if mode != StreamingPayload {
				h, _ := NewChecksum("CRC64NVME")
				h.Write(payload)
				want.Trailer = http.Header{"X-Amz-Checksum-Crc64nvme": {base64.StdEncoding.EncodeToString(h.Sum(nil))}}
			}
			if diff := cmp.Diff(want, send(t, req)); diff != "" {
				t.Errorf("verdict mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func BenchmarkChunkedReader(b *testing.B) {
	payload := randomPayload(8 << 20)
	for _, mode := range chunkedModes {
		var algs []string
		if mode != StreamingPayload {
			algs = []string{"CRC32C"}
		}
		body := encodeChunked(b, payload, mode, 64<<10, algs...)
		b.Run(mode, func(b *testing.B) {
			b.SetBytes(int64(len(payload)))
			b.ReportAllocs()
			for b.Loop() {
				c, err := NewChunkedReader(bytes.NewReader(body), testAuth(), testSecrets["AKIDEXAMPLE"], mode)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := io.Copy(io.Discard, c); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// Without a secret the signatures go unchecked, but framing, length and
// checksums do not.
func TestUnverifiedChunkedRequestReader(t *testing.T) {
	payload := randomPayload(100_000)
	withBadChecksum := func(mode string) []byte {
		e := newChunkEncoder(bytes.NewReader(payload), mode, 64<<10, "SHA256")
		e.editTrailer = func(_, v string) string { return "AAAA" + v[4:] }
		b, err := io.ReadAll(e)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	signed := encodeChunked(t, payload, StreamingPayload, 64<<10)
	for _, tt := range []struct {
		name     string
		req      *http.Request
		want     []byte
		wantKind Kind // KindMissing: success
	}{
		{"AWS example", docRequest(t, "", docBody(docChunkSigs, "")), []byte(docPayload), KindMissing},
		{"signature values are not checked", chunkedRequest(bytes.Replace(signed, []byte("chunk-signature="), []byte("chunk-signature=0"), -1), StreamingPayload, len(payload)), payload, KindMissing},
		{"signed trailer", chunkedRequest(encodeChunked(t, payload, StreamingPayloadTrailer, 64<<10, "CRC32"), StreamingPayloadTrailer, len(payload), "x-amz-checksum-crc32"), payload, KindMissing},
		{"signed trailer, bad checksum", chunkedRequest(withBadChecksum(StreamingPayloadTrailer), StreamingPayloadTrailer, len(payload), "x-amz-checksum-sha256"), nil, KindChecksumMismatch},
		{"unsigned trailer, bad checksum", chunkedRequest(withBadChecksum(StreamingUnsignedPayloadTrailer), StreamingUnsignedPayloadTrailer, len(payload), "x-amz-checksum-sha256"), nil, KindChecksumMismatch},
		{"decoded length wrong", chunkedRequest(signed, StreamingPayload, len(payload)+1), nil, KindMalformedChunk},
		{"not aws-chunked", chunkedRequest(signed, UnsignedPayload, len(payload)), nil, KindIncomplete},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := NewUnverifiedChunkedRequestReader(tt.req)
			var got []byte
			if err == nil {
				got, err = io.ReadAll(c)
			}
			if tt.wantKind != KindMissing {
				if kindOf(err) != tt.wantKind {
					t.Fatalf("got error %v, want kind %v", err, tt.wantKind)
				}
				return
			}
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if !bytes.Equal(got, tt.want) {
				t.Errorf("got %d decoded bytes, want %d equal to the payload", len(got), len(tt.want))
			}
		})
	}
}

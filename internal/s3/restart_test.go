package s3_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"overcast/internal/app"
	"overcast/internal/awstest"
)

// TestMain doubles as a server process for TestKilledMidUpload: with
// OVERCAST_S3_TEST_SERVE set it runs overcast on that data dir and prints
// its URL, until killed.
func TestMain(m *testing.M) {
	if dir := os.Getenv("OVERCAST_S3_TEST_SERVE"); dir != "" {
		srv := app.New(app.Config{Addr: "127.0.0.1:0", DataDir: dir, Version: "test",
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err := srv.Run(context.Background()); err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		fmt.Println(srv.URL())
		select {}
	}
	os.Exit(m.Run())
}

func TestEverythingSurvivesRestart(t *testing.T) {
	srv, c := startWithBucket(t, "durable")
	setVersioning(t, c, "durable", types.BucketVersioningStatusEnabled)
	makePublic(t, c, "durable")
	c.PutBucketCors(ctx, &s3.PutBucketCorsInput{Bucket: aws.String("durable"), CORSConfiguration: &types.CORSConfiguration{
		CORSRules: []types.CORSRule{{AllowedMethods: []string{"GET"}, AllowedOrigins: []string{"*"}}}}})
	c.PutBucketWebsite(ctx, &s3.PutBucketWebsiteInput{Bucket: aws.String("durable"), WebsiteConfiguration: &types.WebsiteConfiguration{
		IndexDocument: &types.IndexDocument{Suffix: aws.String("index.html")}}})
	small := putObject(t, c, "durable", "small", "tiny", func(in *s3.PutObjectInput) { in.Metadata = map[string]string{"a": "b"} })
	large := string(randomBytes(3<<20, 8))
	putObject(t, c, "durable", "large", large)
	putObject(t, c, "durable", "small", "tiny v2")
	id := createUpload(t, c, "durable", "pending")
	part1 := randomBytes(5<<20, 9)
	e1 := uploadPart(t, c, "durable", "pending", id, 1, part1)

	srv.Restart(t)
	c = newClient(srv)

	if got := getObject(t, c, "durable", "small"); got != "tiny v2" {
		t.Errorf("small: %q", got)
	}
	if got, _ := getVersion(t, c, "durable", "small", aws.ToString(small.VersionId)); got != "tiny" {
		t.Errorf("old version: %q", got)
	}
	if got := getObject(t, c, "durable", "large"); got != large {
		t.Errorf("large object differs after restart")
	}
	v, _ := c.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String("durable")})
	cors, _ := c.GetBucketCors(ctx, &s3.GetBucketCorsInput{Bucket: aws.String("durable")})
	web, _ := c.GetBucketWebsite(ctx, &s3.GetBucketWebsiteInput{Bucket: aws.String("durable")})
	if v.Status != types.BucketVersioningStatusEnabled || len(cors.CORSRules) != 1 || web.IndexDocument == nil {
		t.Errorf("configuration after restart: versioning %q, cors %v, website %v", v.Status, cors.CORSRules, web.IndexDocument)
	}
	if status, _, _ := rawRequest(t, "GET", srv.URL+"/durable/small", nil, nil); status != 200 {
		t.Errorf("policy after restart: anonymous GET got %d", status)
	}
	// The incomplete upload is listable, and completes.
	uploads, _ := c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String("durable")})
	if len(uploads.Uploads) != 1 {
		t.Fatalf("uploads after restart: %d", len(uploads.Uploads))
	}
	e2 := uploadPart(t, c, "durable", "pending", id, 2, []byte("end"))
	awstest.Call(t, c.CompleteMultipartUpload, &s3.CompleteMultipartUploadInput{Bucket: aws.String("durable"), Key: aws.String("pending"),
		UploadId: aws.String(id), MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{
			{PartNumber: aws.Int32(1), ETag: aws.String(e1)}, {PartNumber: aws.Int32(2), ETag: aws.String(e2)}}}})
	if got := getObject(t, c, "durable", "pending"); got != string(part1)+"end" {
		t.Errorf("completed after restart: %d bytes", len(got))
	}
}

// startProcess runs overcast in a child process on dir and returns its
// URL and the process.
func startProcess(t *testing.T, dir string) (string, *exec.Cmd) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "OVERCAST_S3_TEST_SERVE="+dir)
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "http://") {
		cmd.Process.Kill()
		t.Fatalf("child server: %q, %v", line, err)
	}
	return strings.TrimSpace(line), cmd
}

// TestKilledMidUpload kills -9 the server while a PUT and an UploadPart are
// streaming: after a restart, what was acknowledged is there, what was not
// is not, the incomplete upload is listable with its acknowledged parts,
// and no bytes are left over.
func TestKilledMidUpload(t *testing.T) {
	dir := t.TempDir()
	url, cmd := startProcess(t, dir)
	srv := &serverAt{url: url}
	c := srv.client()
	createBucket(t, c, "crash")
	acked := string(randomBytes(2<<20, 10))
	putObject(t, c, "crash", "acked", acked)
	id := createUpload(t, c, "crash", "mp")
	uploadPart(t, c, "crash", "mp", id, 1, randomBytes(5<<20, 12))
	ps := s3.NewPresignClient(c)
	putURL, _ := ps.PresignPutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("crash"), Key: aws.String("half")})
	partURL, _ := ps.PresignUploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("crash"), Key: aws.String("mp"), UploadId: aws.String(id), PartNumber: aws.Int32(2)})

	// Two uploads that send half their bytes and stall.
	stall := func(u string) {
		conn, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		path := u[len(url):]
		fmt.Fprintf(conn, "PUT %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n\r\n", path, strings.TrimPrefix(url, "http://"), 20<<20)
		conn.Write(randomBytes(10<<20, 13))
	}
	stall(putURL.URL)
	stall(partURL.URL)
	awstest.WaitFor(t, "both stalled uploads to reach the blob store", func() bool {
		return countFiles(filepath.Join(dir, "blobs", "tmp")) == 2
	})
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()

	url, cmd = startProcess(t, dir)
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	srv.url = url
	c = srv.client()
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("crash"), Key: aws.String("acked")})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(out.Body)
	out.Body.Close()
	if string(b) != acked {
		t.Errorf("acknowledged object differs after the crash")
	}
	_, err = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("crash"), Key: aws.String("half")})
	wantError(t, "HEAD of a half-uploaded object", err, "", http.StatusNotFound)
	parts, err := c.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String("crash"), Key: aws.String("mp"), UploadId: aws.String(id)})
	if err != nil || len(parts.Parts) != 1 || aws.ToInt32(parts.Parts[0].PartNumber) != 1 {
		t.Errorf("parts after the crash: %+v, %v; want part 1 only", parts, err)
	}
	if n := countFiles(filepath.Join(dir, "blobs", "tmp")); n != 0 {
		t.Errorf("%d temporary files left after restart", n)
	}
	// One blob for the acknowledged object, one for the acknowledged part.
	if n := countFiles(filepath.Join(dir, "blobs", "data")); n != 2 {
		t.Errorf("got %d blobs after restart, want 2", n)
	}
	awstest.Call(t, c.AbortMultipartUpload, &s3.AbortMultipartUploadInput{Bucket: aws.String("crash"), Key: aws.String("mp"), UploadId: aws.String(id)})
	if n := countFiles(filepath.Join(dir, "blobs", "data")); n != 1 {
		t.Errorf("got %d blobs after abort, want 1", n)
	}
}

type serverAt struct{ url string }

func (s *serverAt) client() *s3.Client {
	return s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(s.url), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""), Retryer: aws.NopRetryer{}})
}

func countFiles(dir string) int {
	n := 0
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			n++
		}
		return nil
	})
	return n
}

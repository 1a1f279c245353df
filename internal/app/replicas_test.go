package app_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	cftypes "github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"overcast/internal/app"
	"overcast/internal/awstest"
	"overcast/internal/clock"
	"overcast/internal/store/postgres/pgtest"
)

// startReplicas starts two overcasts sharing one PostgreSQL database and
// one blob store (a third overcast's S3), as replicas behind a load
// balancer would.
func startReplicas(t *testing.T) [2]*awstest.Server {
	t.Helper()
	pg := pgtest.Start(t)
	db := pg.NewDatabase(t)
	blobHost := awstest.Start(t)
	awstest.Call(t, s3.NewFromConfig(blobHost.Config(), func(o *s3.Options) { o.UsePathStyle = true }).CreateBucket,
		&s3.CreateBucketInput{Bucket: aws.String("blobs")})
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_REGION", "us-east-1")
	var replicas [2]*awstest.Server
	for i := range replicas {
		replicas[i] = awstest.Start(t, awstest.Store(db), awstest.Configure(func(c *app.Config) {
			c.Blobs, c.BlobsEndpoint = "s3://blobs/replicas", blobHost.URL
			c.LeaseTTL = 2 * time.Second
		}))
	}
	return replicas
}

// roundRobin is a load balancer in front of the replicas: each request
// goes to the next. It keeps the Host header, which signatures cover.
func roundRobin(t *testing.T, replicas ...*awstest.Server) *httptest.Server {
	t.Helper()
	var next atomic.Uint64
	targets := make([]*url.URL, len(replicas))
	for i, r := range replicas {
		u, err := url.Parse(r.URL)
		if err != nil {
			t.Fatal(err)
		}
		targets[i] = u
	}
	proxy := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(targets[next.Add(1)%uint64(len(targets))])
		pr.Out.Host = pr.In.Host
	}}
	lb := httptest.NewServer(proxy)
	t.Cleanup(lb.Close)
	return lb
}

// TestReplicasServeTheSameEndpoint: what one replica writes, the other
// reads — objects, IAM users' keys, sealed secrets, ECR tokens — and so
// does a client of both behind a round-robin balancer.
func TestReplicasServeTheSameEndpoint(t *testing.T) {
	r := startReplicas(t)
	a, b := r[0], r[1]
	lb := roundRobin(t, a, b)
	s3c := func(srv *awstest.Server) *s3.Client {
		return s3.NewFromConfig(srv.Config(), func(o *s3.Options) { o.UsePathStyle = true })
	}

	t.Run("S3", func(t *testing.T) {
		awstest.Call(t, s3c(a).CreateBucket, &s3.CreateBucketInput{Bucket: aws.String("shared")})
		big := bytes.Repeat([]byte("0123456789abcdef"), 16<<10) // past the inline limit: a blob
		for key, body := range map[string][]byte{"small": []byte("hello"), "big": big} {
			awstest.Call(t, s3c(a).PutObject, &s3.PutObjectInput{Bucket: aws.String("shared"), Key: aws.String(key), Body: bytes.NewReader(body)})
			got := awstest.Call(t, s3c(b).GetObject, &s3.GetObjectInput{Bucket: aws.String("shared"), Key: aws.String(key)})
			data, err := io.ReadAll(got.Body)
			got.Body.Close()
			if err != nil || !bytes.Equal(data, body) {
				t.Errorf("object %s put on one replica, got on the other: %d bytes, %v; want %d bytes", key, len(data), err, len(body))
			}
		}
		lbc := s3.NewFromConfig(a.Config(), func(o *s3.Options) { o.UsePathStyle = true; o.BaseEndpoint = aws.String(lb.URL) })
		for i := range 6 {
			key := fmt.Sprintf("lb/%d", i)
			awstest.Call(t, lbc.PutObject, &s3.PutObjectInput{Bucket: aws.String("shared"), Key: aws.String(key), Body: strings.NewReader(key)})
			got := awstest.Call(t, lbc.GetObject, &s3.GetObjectInput{Bucket: aws.String("shared"), Key: aws.String(key)})
			data, _ := io.ReadAll(got.Body)
			got.Body.Close()
			if string(data) != key {
				t.Errorf("through the balancer, object %s: got %q", key, data)
			}
		}
	})

	t.Run("IAM keys", func(t *testing.T) {
		iamc := iam.NewFromConfig(a.Config())
		awstest.Call(t, iamc.CreateUser, &iam.CreateUserInput{UserName: aws.String("alice")})
		key := awstest.Call(t, iamc.CreateAccessKey, &iam.CreateAccessKeyInput{UserName: aws.String("alice")}).AccessKey
		id := awstest.Call(t, sts.NewFromConfig(b.ConfigWith(aws.ToString(key.AccessKeyId), aws.ToString(key.SecretAccessKey), "")).GetCallerIdentity,
			&sts.GetCallerIdentityInput{})
		if want := "arn:aws:iam::000000000000:user/alice"; aws.ToString(id.Arn) != want {
			t.Errorf("GetCallerIdentity on the other replica with alice's new key: got %s, want %s", aws.ToString(id.Arn), want)
		}
	})

	t.Run("sealed secrets", func(t *testing.T) {
		awstest.Call(t, secretsmanager.NewFromConfig(a.Config()).CreateSecret,
			&secretsmanager.CreateSecretInput{Name: aws.String("db"), SecretString: aws.String("hunter2")})
		got := awstest.Call(t, secretsmanager.NewFromConfig(b.Config()).GetSecretValue, &secretsmanager.GetSecretValueInput{SecretId: aws.String("db")})
		if aws.ToString(got.SecretString) != "hunter2" {
			t.Errorf("secret created on one replica, read on the other: got %q", aws.ToString(got.SecretString))
		}
	})

	t.Run("ECR push across replicas", func(t *testing.T) {
		awstest.Call(t, ecr.NewFromConfig(a.Config()).CreateRepository, &ecr.CreateRepositoryInput{RepositoryName: aws.String("app")})
		user, password := a.RegistryLogin(t)
		do := func(srv *awstest.Server, method, path string, body []byte, header ...string) *http.Response {
			t.Helper()
			req, err := http.NewRequest(method, srv.URL+path, bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			req.SetBasicAuth(user, password)
			for i := 0; i+1 < len(header); i += 2 {
				req.Header.Set(header[i], header[i+1])
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { resp.Body.Close() })
			return resp
		}
		// docker's chunked push, each request on the other replica.
		layer := bytes.Repeat([]byte("layer bytes "), 50_000)
		sum := sha256.Sum256(layer)
		digest := "sha256:" + hex.EncodeToString(sum[:])
		resp := do(a, "POST", "/v2/app/blobs/uploads/", nil)
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("starting an upload: got %s", resp.Status)
		}
		loc := resp.Header.Get("Location")
		half := len(layer) / 2
		for i, chunk := range [][]byte{layer[:half], layer[half:]} {
			srv := r[(i+1)%2]
			start := i * half
			resp = do(srv, "PATCH", loc, chunk, "Content-Type", "application/octet-stream",
				"Content-Range", fmt.Sprintf("%d-%d", start, start+len(chunk)-1))
			if resp.StatusCode != http.StatusAccepted {
				body, _ := io.ReadAll(resp.Body)
				t.Fatalf("chunk %d on replica %d: got %s %s", i, (i+1)%2, resp.Status, body)
			}
			loc = resp.Header.Get("Location")
		}
		sep := "?"
		if strings.Contains(loc, "?") {
			sep = "&"
		}
		if resp = do(a, "PUT", loc+sep+"digest="+digest, nil); resp.StatusCode != http.StatusCreated {
			body, _ := io.ReadAll(resp.Body)
			t.Fatalf("finishing the upload: got %s %s", resp.Status, body)
		}
		resp = do(b, "GET", "/v2/app/blobs/"+digest, nil)
		got, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK || !bytes.Equal(got, layer) {
			t.Errorf("the layer from the other replica: got %s, %d bytes; want 200, %d bytes", resp.Status, len(got), len(layer))
		}
	})
}

// TestReplicasLeadOneAtATime: exactly one replica runs the controllers;
// work asked of the other (an invalidation) is done by the leader; when
// the leader stops, the other takes over.
func TestReplicasLeadOneAtATime(t *testing.T) {
	r := startReplicas(t)
	leading := func() (int, int) {
		n, who := 0, -1
		for i, srv := range r {
			if srv.Main != nil && srv.Main.Leading() {
				n, who = n+1, i
			}
		}
		return n, who
	}
	awstest.WaitFor(t, "one replica to lead", func() bool { n, _ := leading(); return n == 1 })
	_, leader := leading()
	other := r[1-leader]

	// An invalidation asked of the replica that does not lead completes.
	cf := cloudfront.NewFromConfig(other.Config())
	dist := awstest.Call(t, cf.CreateDistribution, &cloudfront.CreateDistributionInput{DistributionConfig: &cftypes.DistributionConfig{
		CallerReference: aws.String("replicas"), Comment: aws.String("test"), Enabled: aws.Bool(true),
		Origins: &cftypes.Origins{Quantity: aws.Int32(1), Items: []cftypes.Origin{{
			Id: aws.String("web"), DomainName: aws.String("127.0.0.1"),
			CustomOriginConfig: &cftypes.CustomOriginConfig{HTTPPort: aws.Int32(80), HTTPSPort: aws.Int32(443),
				OriginProtocolPolicy: cftypes.OriginProtocolPolicyHttpOnly},
		}}},
		DefaultCacheBehavior: &cftypes.DefaultCacheBehavior{TargetOriginId: aws.String("web"),
			ViewerProtocolPolicy: cftypes.ViewerProtocolPolicyAllowAll, CachePolicyId: aws.String("658327ea-f89d-4fab-a63d-7e88639e58f6")},
	}}).Distribution
	inv := awstest.Call(t, cf.CreateInvalidation, &cloudfront.CreateInvalidationInput{DistributionId: dist.Id,
		InvalidationBatch: &cftypes.InvalidationBatch{CallerReference: aws.String("r1"), Paths: &cftypes.Paths{Quantity: aws.Int32(1), Items: []string{"/*"}}}}).Invalidation
	awstest.WaitFor(t, "the leader to complete the invalidation asked of the other replica", func() bool {
		got := awstest.Call(t, cf.GetInvalidation, &cloudfront.GetInvalidationInput{DistributionId: dist.Id, Id: inv.Id})
		return aws.ToString(got.Invalidation.Status) == "Completed"
	})

	// The leader stops: the other takes over.
	if err := r[leader].Main.Close(); err != nil {
		t.Fatal(err)
	}
	r[leader].Main = nil
	awstest.WaitFor(t, "the other replica to take over", func() bool { return other.Main.Leading() })
}

// TestReplicasForgetADeletedKeyAtOnce: a key deleted through one replica
// stops signing on the other at once, though that one has it cached: the
// replicas tell each other of IAM's changes. The clock stands still, so
// the cache never expires on its own.
func TestReplicasForgetADeletedKeyAtOnce(t *testing.T) {
	pg := pgtest.Start(t)
	db := pg.NewDatabase(t)
	clk := clock.NewFake(time.Now().UTC())
	var replicas [2]*awstest.Server
	for i := range replicas {
		replicas[i] = awstest.Start(t, awstest.Store(db), awstest.Clock(clk))
	}
	iamc := iam.NewFromConfig(replicas[0].Config())
	awstest.Call(t, iamc.CreateUser, &iam.CreateUserInput{UserName: aws.String("leaving")})
	key := awstest.Call(t, iamc.CreateAccessKey, &iam.CreateAccessKeyInput{UserName: aws.String("leaving")}).AccessKey
	other := sts.NewFromConfig(replicas[1].ConfigWith(aws.ToString(key.AccessKeyId), aws.ToString(key.SecretAccessKey), ""))
	if arn := aws.ToString(awstest.Call(t, other.GetCallerIdentity, &sts.GetCallerIdentityInput{}).Arn); !strings.HasSuffix(arn, ":user/leaving") {
		t.Fatalf("the new key signs as %s on the other replica", arn)
	} // and is in its cache now
	awstest.Call(t, iamc.DeleteAccessKey, &iam.DeleteAccessKeyInput{UserName: aws.String("leaving"), AccessKeyId: key.AccessKeyId})
	// Outside --strict an unknown key signs as the account's root.
	awstest.WaitFor(t, "the deleted key to stop signing as its user on the other replica", func() bool {
		out, err := other.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
		return err == nil && !strings.HasSuffix(aws.ToString(out.Arn), ":user/leaving")
	})
}

package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"overcast/internal/app"
	"overcast/internal/awstest"
	"overcast/internal/store/postgres/pgtest"
)

// TestStateOnPostgres runs overcast with --store on PostgreSQL: S3 and SSM
// calls work, and what they stored is there after a restart.
func TestStateOnPostgres(t *testing.T) {
	pg := pgtest.Start(t)
	srv := awstest.Start(t, awstest.Store(pg.NewDatabase(t)))

	s3c := func() *s3.Client {
		return s3.NewFromConfig(srv.Config(), func(o *s3.Options) { o.UsePathStyle = true })
	}
	ssmc := func() *ssm.Client { return ssm.NewFromConfig(srv.Config()) }
	awstest.Call(t, s3c().CreateBucket, &s3.CreateBucketInput{Bucket: aws.String("state")})
	awstest.Call(t, s3c().PutObject, &s3.PutObjectInput{Bucket: aws.String("state"), Key: aws.String("a/b.txt"),
		Body: strings.NewReader("kept in postgres")})
	for _, typ := range []ssmtypes.ParameterType{ssmtypes.ParameterTypeString, ssmtypes.ParameterTypeSecureString} {
		awstest.Call(t, ssmc().PutParameter, &ssm.PutParameterInput{Name: aws.String("/app/" + string(typ)),
			Value: aws.String("v-" + string(typ)), Type: typ})
	}

	srv.Restart(t)

	obj := awstest.Call(t, s3c().GetObject, &s3.GetObjectInput{Bucket: aws.String("state"), Key: aws.String("a/b.txt")})
	body, err := io.ReadAll(obj.Body)
	obj.Body.Close()
	if err != nil || string(body) != "kept in postgres" {
		t.Errorf("object after restart: got %q, %v, want %q", body, err, "kept in postgres")
	}
	list := awstest.Call(t, s3c().ListObjectsV2, &s3.ListObjectsV2Input{Bucket: aws.String("state")})
	if len(list.Contents) != 1 || aws.ToString(list.Contents[0].Key) != "a/b.txt" {
		t.Errorf("ListObjectsV2 after restart: got %d objects, want a/b.txt alone", len(list.Contents))
	}
	for _, typ := range []ssmtypes.ParameterType{ssmtypes.ParameterTypeString, ssmtypes.ParameterTypeSecureString} {
		p := awstest.Call(t, ssmc().GetParameter, &ssm.GetParameterInput{Name: aws.String("/app/" + string(typ)), WithDecryption: aws.Bool(true)})
		if got := aws.ToString(p.Parameter.Value); got != "v-"+string(typ) || p.Parameter.Version != 1 {
			t.Errorf("parameter %s after restart: got %q version %d, want %q version 1", typ, got, p.Parameter.Version, "v-"+string(typ))
		}
	}
}

// TestPostgresGoesAway stops PostgreSQL under a running overcast: health
// says degraded and API calls fail meanwhile; once it is back, both recover
// without a restart.
func TestPostgresGoesAway(t *testing.T) {
	pg := pgtest.Start(t)
	srv := awstest.Start(t, awstest.Store(pg.NewDatabase(t)))
	ssmc := ssm.NewFromConfig(srv.Config())
	awstest.Call(t, ssmc.PutParameter, &ssm.PutParameterInput{Name: aws.String("p"), Value: aws.String("v"), Type: ssmtypes.ParameterTypeString})
	get := func() error {
		_, err := ssmc.GetParameter(context.Background(), &ssm.GetParameterInput{Name: aws.String("p")})
		return err
	}

	pg.Stop(t)
	awstest.WaitFor(t, "health to say degraded", func() bool { return healthStatus(t, srv) == "degraded false" })
	if err := get(); err == nil {
		t.Error("GetParameter with PostgreSQL down: got nil error")
	}

	pg.Resume(t)
	awstest.WaitFor(t, "health to say ok", func() bool { return healthStatus(t, srv) == "ok true" })
	if err := get(); err != nil {
		t.Errorf("GetParameter once PostgreSQL is back: %v", err)
	}
}

// healthStatus is /_overcast/health's status and whether the store is
// reachable, e.g. "ok true".
func healthStatus(t *testing.T, srv *awstest.Server) string {
	t.Helper()
	resp, err := http.Get(srv.URL + "/_overcast/health")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var h struct {
		Status string
		Store  struct{ Reachable bool }
	}
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprint(h.Status, " ", h.Store.Reachable)
}

// TestStoreThatCannotOpen: a store overcast cannot reach or does not know
// stops it at start, with the reason.
func TestStoreThatCannotOpen(t *testing.T) {
	for store, want := range map[string]string{
		"postgres://postgres@/db?host=" + t.TempDir(): "cannot reach postgres@",
		"mysql://root@localhost/db":                   `store "mysql://root@localhost/db": want a postgres:// URL`,
		"postgres://u:hunter2@/db?host=/nonexistent":  "cannot reach u@/nonexistent",
	} {
		wantRunError(t, app.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), Store: store}, want)
	}
}

// TestConcurrentPutsOnPostgres: concurrent PutObject calls on PostgreSQL
// all succeed at the first attempt. Each publishes a bus event, and the
// events' numbering once made concurrent writers conflict (and answer 500).
func TestConcurrentPutsOnPostgres(t *testing.T) {
	srv := awstest.Start(t, awstest.Store(pgtest.Start(t).NewDatabase(t)))
	s3c := s3.NewFromConfig(srv.Config(), func(o *s3.Options) {
		o.UsePathStyle = true
		o.Retryer = aws.NopRetryer{} // a failure must show, not be retried away
	})
	awstest.Call(t, s3c.CreateBucket, &s3.CreateBucketInput{Bucket: aws.String("busy")})

	const workers, puts = 16, 200
	keys := make(chan string, puts)
	for i := range puts {
		keys <- fmt.Sprintf("k/%03d", i)
	}
	close(keys)
	body := strings.Repeat("x", 4096)
	start := time.Now()
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for key := range keys {
				_, err := s3c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String("busy"),
					Key: aws.String(key), Body: strings.NewReader(body)})
				if err != nil {
					t.Errorf("PutObject %s: %v", key, err)
				}
			}
		})
	}
	wg.Wait()
	t.Logf("%d PUTs by %d workers in %v", puts, workers, time.Since(start).Round(time.Millisecond))
	list := awstest.Call(t, s3c.ListObjectsV2, &s3.ListObjectsV2Input{Bucket: aws.String("busy")})
	if n := aws.ToInt32(list.KeyCount); n != puts {
		t.Errorf("ListObjectsV2: %d objects, want %d", n, puts)
	}
}

package ecr_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"

	"overcast/internal/app"
	"overcast/internal/awstest"
	"overcast/internal/bus"
	ecrsvc "overcast/internal/ecr"
)

// blobFiles counts the blobs on disk.
func (e *env) blobFiles() int {
	e.t.Helper()
	n := 0
	filepath.WalkDir(filepath.Join(e.srv.DataDir, "blobs", "data"), func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return nil
	})
	return n
}

func (e *env) gc() {
	e.t.Helper()
	if _, err := app.ServiceOf[*ecrsvc.Service](e.srv.Main).CollectGarbage(context.Background()); err != nil {
		e.t.Fatalf("CollectGarbage: %v", err)
	}
}

// pullAll fetches an image's manifest and every blob, checking digests.
func (e *env) pullAll(auth, repo, ref string, img image) error {
	r := e.do(auth, "GET", "/v2/"+repo+"/manifests/"+ref, nil)
	if r.status != 200 || !bytes.Equal(r.body, img.manifest) {
		return &pullError{"manifest " + ref, r}
	}
	for _, b := range append([][]byte{img.config}, img.layers...) {
		r := e.do(auth, "GET", "/v2/"+repo+"/blobs/"+digestOf(b), nil)
		if r.status != 200 || !bytes.Equal(r.body, b) {
			return &pullError{"blob " + digestOf(b), r}
		}
	}
	return nil
}

type pullError struct {
	what string
	r    response
}

func (p *pullError) Error() string {
	return p.what + ": " + http.StatusText(p.r.status) + " " + p.r.code()
}

func TestGarbageCollection(t *testing.T) {
	ctx := context.Background()
	e := start(t)
	e.createRepo("gc")
	shared := randomBytes(1000, 1)
	a, b := makeImage(shared, randomBytes(1001, 2)), makeImage(shared, randomBytes(1002, 3))
	e.mustPush("gc", "a", a)
	e.mustPush("gc", "b", b)
	e.pushBlob(e.auth, "gc", randomBytes(1003, 4)) // uploaded, never referenced
	before := e.blobFiles()
	if before != 6 {
		t.Fatalf("blobs on disk: got %d, want 6 (shared, two layers, two configs, the orphan)", before)
	}

	e.gc()
	if got := e.blobFiles(); got != before {
		t.Errorf("a collection within the grace period removed blobs: %d -> %d", before, got)
	}
	if _, err := e.c.BatchDeleteImage(ctx, &ecr.BatchDeleteImageInput{RepositoryName: aws.String("gc"),
		ImageIds: []types.ImageIdentifier{{ImageDigest: aws.String(a.digest)}}}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(2 * time.Hour)
	e.gc()
	// a's own layer and config, and the orphan, are gone; b is whole.
	if got := e.blobFiles(); got != 3 {
		t.Errorf("blobs after collecting: got %d, want 3", got)
	}
	if err := e.pullAll(e.auth, "gc", "b", b); err != nil {
		t.Errorf("b after collection: %v", err)
	}
	for _, blob := range [][]byte{a.layers[1], a.config} {
		if r := e.do(e.auth, "HEAD", "/v2/gc/blobs/"+digestOf(blob), nil); r.status != 404 {
			t.Errorf("collected blob still linked: HEAD %d", r.status)
		}
	}

	// A blob check refreshes a link, so a client told "it exists" can use
	// it in the manifest it pushes next.
	layer := randomBytes(2000, 5)
	c := makeImage(layer)
	e.pushBlob(e.auth, "gc", layer)
	e.pushBlob(e.auth, "gc", c.config)
	e.clock.Advance(45 * time.Minute)
	for _, blob := range [][]byte{layer, c.config} {
		if r := e.do(e.auth, "HEAD", "/v2/gc/blobs/"+digestOf(blob), nil); r.status != 200 {
			t.Fatalf("HEAD: got %d", r.status)
		}
	}
	e.clock.Advance(45 * time.Minute)
	e.gc()
	if r := e.do(e.auth, "PUT", "/v2/gc/manifests/c", c.manifest, "Content-Type", dockerManifest); r.status != 201 {
		t.Errorf("manifest after its blobs were checked: got %d %s", r.status, r.code())
	}

	// Deleting the repository frees everything once collected.
	if _, err := e.c.DeleteRepository(ctx, &ecr.DeleteRepositoryInput{RepositoryName: aws.String("gc"), Force: true}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(2 * time.Hour)
	e.gc()
	if got := e.blobFiles(); got != 0 {
		t.Errorf("blobs after deleting the repository: got %d, want 0", got)
	}
}

// TestPushRacingGC re-pushes images whose blobs are garbage (old and
// unreferenced) while collections run: every push must succeed and every
// pushed image must pull whole, whichever side of each race wins.
func TestPushRacingGC(t *testing.T) {
	ctx := context.Background()
	e := start(t)
	e.createRepo("race")
	base := randomBytes(4096, 0)
	var imgs []image
	for i := range 24 {
		imgs = append(imgs, makeImage(base, randomBytes(2048+i, byte(i+1))))
	}
	for round := range 3 {
		// Make every image garbage: pushed, deleted, and older than the
		// grace period.
		for i, img := range imgs {
			e.mustPush("race", "t"+string(rune('a'+i)), img)
		}
		var ids []types.ImageIdentifier
		for _, img := range imgs {
			ids = append(ids, types.ImageIdentifier{ImageDigest: aws.String(img.digest)})
		}
		if _, err := e.c.BatchDeleteImage(ctx, &ecr.BatchDeleteImageInput{RepositoryName: aws.String("race"), ImageIds: ids}); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(2 * time.Hour)
		e.auth = e.basicAuth(e.c)

		var stop atomic.Bool
		var collections atomic.Int64
		var wg sync.WaitGroup
		wg.Go(func() {
			for !stop.Load() {
				if _, err := app.ServiceOf[*ecrsvc.Service](e.srv.Main).CollectGarbage(ctx); err != nil {
					t.Errorf("CollectGarbage: %v", err)
					return
				}
				collections.Add(1)
			}
		})
		var pushers sync.WaitGroup
		errs := make(chan error, len(imgs))
		for w := range 4 {
			pushers.Go(func() {
				for i := w; i < len(imgs); i += 4 {
					img := imgs[i]
					// As docker does: skip the blobs the registry says it has.
					for _, blob := range append([][]byte{img.config}, img.layers...) {
						if r := e.do(e.auth, "HEAD", "/v2/race/blobs/"+digestOf(blob), nil); r.status != 200 {
							e.pushBlob(e.auth, "race", blob)
						}
					}
					r := e.do(e.auth, "PUT", "/v2/race/manifests/t"+string(rune('a'+i)), img.manifest, "Content-Type", dockerManifest)
					if r.status != 201 {
						errs <- &pullError{"push", r}
					}
				}
			})
		}
		pushers.Wait()
		stop.Store(true)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("round %d: %v", round, err)
		}
		for i, img := range imgs {
			if err := e.pullAll(e.auth, "race", "t"+string(rune('a'+i)), img); err != nil {
				t.Fatalf("round %d, image %d after racing %d collections: %v", round, i, collections.Load(), err)
			}
		}
	}
	// What is referenced survives a collection long after.
	e.clock.Advance(3 * time.Hour)
	e.auth = e.basicAuth(e.c)
	e.gc()
	for i, img := range imgs {
		if err := e.pullAll(e.auth, "race", "t"+string(rune('a'+i)), img); err != nil {
			t.Fatalf("image %d after a late collection: %v", i, err)
		}
	}
	if got, want := e.blobFiles(), 1+2*len(imgs); got != want {
		t.Errorf("blobs on disk: got %d, want %d (the base layer, a layer and a config per image)", got, want)
	}
}

func TestRestart(t *testing.T) {
	ctx := context.Background()
	e := start(t)
	e.createRepo("keep", func(in *ecr.CreateRepositoryInput) { in.ImageTagMutability = types.ImageTagMutabilityImmutable })
	img := makeImage(randomBytes(3000, 1))
	e.mustPush("keep", "v1", img)
	if _, err := e.c.PutLifecyclePolicy(ctx, &ecr.PutLifecyclePolicyInput{RepositoryName: aws.String("keep"), LifecyclePolicyText: aws.String(keepTwoReleasesPolicy)}); err != nil {
		t.Fatal(err)
	}
	r := e.do(e.auth, "POST", "/v2/keep/blobs/uploads/", nil)
	loc := r.header.Get("Location")
	e.do(e.auth, "PATCH", loc, []byte("half a layer"))

	e.srv.Restart(t)
	e.c = ecr.NewFromConfig(e.srv.Config())
	// The token docker stored still works: the key is in the data dir.
	if err := e.pullAll(e.auth, "keep", "v1", img); err != nil {
		t.Fatalf("pull after restart: %v", err)
	}
	if r := e.do(e.auth, "PATCH", loc, []byte("the rest")); r.status != 404 || !strings.HasPrefix(r.code(), "BLOB_UPLOAD_UNKNOWN") {
		t.Errorf("upload in progress across a restart: got %d %s, want 404 BLOB_UPLOAD_UNKNOWN (docker retries)", r.status, r.code())
	}
	d, err := e.c.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String("keep")})
	if err != nil || len(d.ImageDetails) != 1 || aws.ToString(d.ImageDetails[0].ImageDigest) != img.digest {
		t.Errorf("DescribeImages after restart: got %+v, %v", d, err)
	}
	repos, err := e.c.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"keep"}})
	if err != nil || repos.Repositories[0].ImageTagMutability != types.ImageTagMutabilityImmutable ||
		aws.ToString(repos.Repositories[0].RepositoryUri) != e.srv.RegistryHost()+"/keep" {
		t.Errorf("repository after restart: got %+v, %v", repos, err)
	}
	if lp, err := e.c.GetLifecyclePolicy(ctx, &ecr.GetLifecyclePolicyInput{RepositoryName: aws.String("keep")}); err != nil || aws.ToString(lp.LifecyclePolicyText) != keepTwoReleasesPolicy {
		t.Errorf("lifecycle policy after restart: got %+v, %v", lp, err)
	}
	other := makeImage(randomBytes(10, 2))
	if r := e.push(e.auth, "keep", "v1", other); r.status != 400 || !strings.HasPrefix(r.code(), "TAG_INVALID") {
		t.Errorf("immutable after restart: got %d %s", r.status, r.code())
	}
}

func TestEvents(t *testing.T) {
	ctx := context.Background()
	e := start(t)
	var mu sync.Mutex
	var got []map[string]string
	sub, err := e.srv.Main.Bus().Subscribe(ctx, "ecr-test", bus.Pattern{Source: "aws.ecr", Types: []string{"ECR Image Action"}}, func(_ context.Context, ev bus.Event) error {
		var d map[string]string
		json.Unmarshal(ev.Detail, &d)
		d["account"], d["resource"] = ev.Account, strings.Join(ev.Resources, ",")
		mu.Lock()
		got = append(got, d)
		mu.Unlock()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	e.createRepo("ev")
	img := makeImage(randomBytes(10, 1))
	e.mustPush("ev", "v1", img)
	if _, err := e.c.BatchDeleteImage(ctx, &ecr.BatchDeleteImageInput{RepositoryName: aws.String("ev"), ImageIds: []types.ImageIdentifier{{ImageTag: aws.String("v1")}}}); err != nil {
		t.Fatal(err)
	}
	awstest.WaitFor(t, "two events", func() bool { mu.Lock(); defer mu.Unlock(); return len(got) == 2 })
	arn := "arn:aws:ecr:us-east-1:000000000000:repository/ev"
	want := []map[string]string{
		{"result": "SUCCESS", "repository-name": "ev", "image-digest": img.digest, "action-type": "PUSH", "image-tag": "v1", "account": "000000000000", "resource": arn},
		{"result": "SUCCESS", "repository-name": "ev", "image-digest": img.digest, "action-type": "DELETE", "image-tag": "v1", "account": "000000000000", "resource": arn},
	}
	mu.Lock()
	defer mu.Unlock()
	for i := range want {
		for k, v := range want[i] {
			if got[i][k] != v {
				t.Errorf("event %d %s: got %q, want %q", i, k, got[i][k], v)
			}
		}
	}
}

package codebuild

import (
	"cmp"
	"context"
	"fmt"
	"path"
	"strings"

	api "overcast/internal/api/codebuild"
	"overcast/internal/service"
	"overcast/internal/store"
)

// Combining artifacts: when the batch configuration's combineArtifacts is
// true, a batch whose builds succeeded copies each build's primary S3
// artifact into one location for the batch, under a folder named by the
// build's batch identifier (COMBINE_ARTIFACTS). The batch's artifacts
// location then names it.

// s3ARN is how CodeBuild names S3 artifact locations.
const s3ARN = "arn:aws:s3:::"

// batchArtifact is one build's uploaded primary artifact: the objects at
// key (a zip) or under key/ (files).
type batchArtifact struct {
	identifier  string
	bucket, key string
}

// combineArtifacts runs the COMBINE_ARTIFACTS phase and ends the batch:
// SUCCEEDED with its artifacts location, or FAILED saying which copy
// failed.
func (s *Service) combineArtifacts(ctx context.Context, key string, b *buildBatch) error {
	location, cause := s.copyBatchArtifacts(ctx, b)
	return s.updateBatch(ctx, key, func(b *buildBatch, now timeNow) {
		if service.Deref(b.Batch.CurrentPhase) != batchPhaseCombine {
			return
		}
		status := statusSucceeded
		if cause != nil {
			status = statusFailed
		} else if location != "" {
			artifacts := api.BuildArtifacts{}
			if b.Batch.Artifacts != nil {
				artifacts = *b.Batch.Artifacts
			}
			artifacts.Location = new(s3ARN + location)
			b.Batch.Artifacts = &artifacts
		}
		endBatchPhase(&b.Batch, status, now(), cause)
		finishBatch(&b.Batch, status, now())
	})
}

// copyBatchArtifacts copies the artifacts of the batch's succeeded builds
// to bucket/prefix/identifier/..., returning "bucket/prefix" ("" when no
// build uploaded one), or why a copy failed.
func (s *Service) copyBatchArtifacts(ctx context.Context, b *buildBatch) (string, *api.PhaseContext) {
	fail := func(format string, args ...any) (string, *api.PhaseContext) {
		return "", &api.PhaseContext{StatusCode: new("CLIENT_ERROR"), Message: new(fmt.Sprintf(format, args...))}
	}
	bucket, prefix, artifacts, err := s.batchArtifacts(ctx, b)
	if err != nil {
		return fail("Failed to read the batch's builds: %v", err)
	}
	if len(artifacts) == 0 {
		return "", nil
	}
	objects := s.opts.Objects
	if objects == nil {
		return fail("Failed to combine the artifacts: %v", errMissing("S3"))
	}
	for _, a := range artifacts {
		keys, err := objects.ListObjects(ctx, b.Account, b.Region, a.bucket, a.key)
		if err != nil {
			return fail("Failed to list the artifacts of build %s in s3://%s/%s: %v", a.identifier, a.bucket, a.key, err)
		}
		for _, k := range keys {
			rel, ok := strings.CutPrefix(k, a.key+"/")
			switch {
			case k == a.key:
				rel = path.Base(k) // a zip: the one object
			case !ok:
				continue // another artifact sharing the prefix
			}
			dst := path.Join(prefix, a.identifier, rel)
			if err := objects.CopyObject(ctx, b.Account, b.Region, a.bucket, k, bucket, dst); err != nil {
				return fail("Failed to copy s3://%s/%s of build %s to s3://%s/%s: %v", a.bucket, k, a.identifier, bucket, dst, err)
			}
		}
	}
	return bucket + "/" + prefix, nil
}

// batchArtifacts lists the uploaded artifacts of the batch's succeeded
// builds, and where the batch combines them: the primary artifact's bucket
// and path, the batch's UUID when the namespace is BUILD_ID, and its name.
func (s *Service) batchArtifacts(ctx context.Context, b *buildBatch) (bucket, prefix string, artifacts []batchArtifact, err error) {
	project := *b.Batch.ProjectName
	err = s.Store.View(ctx, func(tx store.Tx) error {
		for _, g := range b.Batch.BuildGroups {
			if g.CurrentBuildSummary == nil {
				continue
			}
			child, _, err := getBuild(tx, b.scope().Key(buildID(*g.CurrentBuildSummary.Arn)))
			if err != nil {
				return err
			}
			if *child.Build.BuildStatus != statusSucceeded || child.Build.Artifacts == nil || len(child.Targets) == 0 || child.Targets[0].Identifier != "" {
				continue
			}
			from, key, _ := strings.Cut(strings.TrimPrefix(service.Deref(child.Build.Artifacts.Location), s3ARN), "/")
			if key == "" { // nothing uploaded
				continue
			}
			artifacts = append(artifacts, batchArtifact{identifier: *g.Identifier, bucket: from, key: key})
			t := child.Targets[0]
			parts := []string{t.Path}
			if t.NamespaceType == "BUILD_ID" {
				parts = append(parts, strings.TrimPrefix(*b.Batch.Id, project+":"))
			}
			bucket, prefix = t.Location, strings.Trim(path.Join(append(parts, cmp.Or(t.Name, project))...), "/")
		}
		return nil
	})
	return bucket, prefix, artifacts, err
}

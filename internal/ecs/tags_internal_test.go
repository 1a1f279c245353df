package ecs

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"overcast"
	api "overcast/internal/api/ecs"
	"overcast/internal/service/servicetest"
	"overcast/internal/store"
)

// The task controller writes a copy of the task it read before its work
// (here, attaching an ENI): a tag write in between is kept, not
// overwritten and not a failure; a change of the task's state in between
// is not overwritten either, and the controller's write fails.
func TestTaskControllerKeepsTagsWrittenMeanwhile(t *testing.T) {
	for _, tt := range []struct {
		name      string
		between   func(ctx context.Context, s *Service, arn string) error
		wantSaved bool
		wantTags  map[string]string
	}{
		{"tagged", func(ctx context.Context, s *Service, arn string) error {
			_, err := s.TagResource(ctx, &api.TagResourceRequest{ResourceArn: &arn, Tags: api.Tags{{Key: new("env"), Value: new("dev")}}})
			return err
		}, true, map[string]string{"team": "web", "env": "dev"}},
		{"untagged", func(ctx context.Context, s *Service, arn string) error {
			_, err := s.UntagResource(ctx, &api.UntagResourceRequest{ResourceArn: &arn, TagKeys: []string{"team"}})
			return err
		}, true, nil},
		{"stopped", func(ctx context.Context, s *Service, arn string) error {
			_, err := s.StopTask(ctx, &api.StopTaskRequest{Cluster: new("c"), Task: &arn})
			return err
		}, false, map[string]string{"team": "web"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			env := servicetest.Env(t)
			s := New(env, Options{Interfaces: &fakeENIs{}})
			ctx := context.Background()
			sc := overcast.ScopeOf(ctx)
			if _, err := s.CreateCluster(ctx, &api.CreateClusterRequest{ClusterName: new("c")}); err != nil {
				t.Fatal(err)
			}
			key := taskKey(sc, "c", "0123")
			tk := task{ID: "0123", ARN: taskARN(sc, "c", "0123"), Cluster: "c", DesiredStatus: taskRunning,
				Definition: api.TaskDefinition{NetworkMode: new("awsvpc")}, Tags: map[string]string{"team": "web"},
				Network: &api.AwsVpcConfiguration{Subnets: []string{"subnet-1"}}}
			tk.LastStatus = taskProvisioning
			v := storeNewTask(t, env, s, key, &tk)
			created := tk.Version

			if err := tt.between(ctx, s, tk.ARN); err != nil {
				t.Fatal(err)
			}
			_, err := s.provisionTask(ctx, sc, key, tk, v)
			if saved := err == nil; saved != tt.wantSaved {
				t.Fatalf("the controller's write: got error %v, want saved %v", err, tt.wantSaved)
			}

			var got task
			err = env.Store.View(ctx, func(tx store.Tx) (err error) {
				got, _, err = s.readTask(tx, key)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.wantTags, got.Tags); diff != "" {
				t.Errorf("tags (-want +got):\n%s", diff)
			}
			// The tag write is no change of state; the controller's and
			// StopTask's each are one.
			if got.Version != created+1 {
				t.Errorf("version: got %d, want %d", got.Version, created+1)
			}
			if tt.wantSaved && (got.LastStatus != taskPending || got.Interface == nil) {
				t.Errorf("the controller's write: got %s, ENI %+v; want PENDING with an ENI", got.LastStatus, got.Interface)
			}
			if !tt.wantSaved && (got.DesiredStatus != taskStopped || got.LastStatus != taskProvisioning) {
				t.Errorf("StopTask's write: got desired %s, last %s; want STOPPED, PROVISIONING", got.DesiredStatus, got.LastStatus)
			}
		})
	}
}

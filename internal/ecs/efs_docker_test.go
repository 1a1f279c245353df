package ecs_test

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/efs"
	efstypes "github.com/aws/aws-sdk-go-v2/service/efs/types"

	"overcast/internal/awstest"
	"overcast/internal/service/servicetest"
)

// Two tasks on two instances share one EFS file system: what the first
// writes, the second reads.
func TestEFSVolumeSharedAcrossInstances(t *testing.T) {
	e := newTaskEnv(t)
	efsc := efs.NewFromConfig(e.srv.Config())
	fsID := aws.ToString(awstest.Call(t, efsc.CreateFileSystem, &efs.CreateFileSystemInput{CreationToken: aws.String("shared")}).FileSystemId)
	awstest.WaitFor(t, "file system "+fsID+" to be available", func() bool {
		out, err := efsc.DescribeFileSystems(e.ctx, &efs.DescribeFileSystemsInput{FileSystemId: aws.String(fsID)})
		return err == nil && out.FileSystems[0].LifeCycleState == efstypes.LifeCycleStateAvailable
	})

	e.cluster(t, "efs")
	e.registerInstanceIn(t, "efs", "i-0efs1", "us-east-1a", 1024)
	e.registerInstanceIn(t, "efs", "i-0efs2", "us-east-1b", 1024)
	mount := []types.MountPoint{{SourceVolume: aws.String("shared"), ContainerPath: aws.String("/data")}}
	awstest.Call(t, e.c.RegisterTaskDefinition, &ecs.RegisterTaskDefinitionInput{Family: aws.String("efs"),
		RequiresCompatibilities: []types.Compatibility{types.CompatibilityEc2},
		Volumes:                 []types.Volume{{Name: aws.String("shared"), EfsVolumeConfiguration: &types.EFSVolumeConfiguration{FileSystemId: aws.String(fsID)}}},
		ContainerDefinitions: []types.ContainerDefinition{
			{Name: aws.String("main"), Image: aws.String(e.image), Memory: aws.Int32(64), MountPoints: mount},
			// copy runs the command each task's overrides give it.
			{Name: aws.String("copy"), Image: aws.String(e.image), Memory: aws.Int32(64), Essential: aws.Bool(false), MountPoints: mount},
		}})

	// copy runs a task whose copy container copies src to dst, on an
	// instance no other task of the group runs on, and waits for the copy's
	// exit code.
	copyTask := func(src, dst string) (exitCode int32, instance string) {
		t.Helper()
		task := e.run(t, &ecs.RunTaskInput{Cluster: aws.String("efs"), TaskDefinition: aws.String("efs"), Group: aws.String("sharers"),
			PlacementConstraints: []types.PlacementConstraint{{Type: types.PlacementConstraintTypeDistinctInstance}},
			Overrides:            &types.TaskOverride{ContainerOverrides: []types.ContainerOverride{{Name: aws.String("copy"), Command: []string{"copy", src, dst}}}}})
		arn := aws.ToString(task.TaskArn)
		var code *int32
		// A container's start is the engine's: on a loaded machine it takes
		// longer than WaitFor's bound.
		servicetest.WaitForEvery(t, "the copy container of "+arn+" to exit", 100*time.Millisecond, 2*time.Minute, func() bool {
			for _, c := range e.describe(t, "efs", arn).Containers {
				if aws.ToString(c.Name) == "copy" {
					code = c.ExitCode
				}
			}
			return code != nil
		})
		t.Cleanup(func() { e.stop(t, "efs", arn) })
		return *code, aws.ToString(task.ContainerInstanceArn)
	}
	codeA, instanceA := copyTask("/app", "/data/from-a")
	if codeA != 0 {
		t.Fatalf("task A writing to the file system: exit code %d", codeA)
	}
	codeB, instanceB := copyTask("/data/from-a", "/data/from-b")
	if codeB != 0 {
		t.Errorf("task B reading task A's file: exit code %d, want 0", codeB)
	}
	if instanceA == instanceB {
		t.Errorf("both tasks ran on %s, want two instances", instanceA)
	}
}

package secretsmanager_test

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/google/go-cmp/cmp"

	"overcast/internal/awstest"
	"overcast/internal/clock"
)

func start(t *testing.T) (*awstest.Server, *secretsmanager.Client, *clock.Fake) {
	t.Helper()
	return awstest.StartClient(t, time.Date(2025, 6, 1, 10, 0, 0, 0, time.UTC), secretsmanager.NewFromConfig)
}

var arnPattern = regexp.MustCompile(`^arn:aws:secretsmanager:us-east-1:000000000000:secret:(.+)-[A-Za-z0-9]{6}$`)

const token1 = "11111111-1111-4111-8111-111111111111"

func TestCreateAndGet(t *testing.T) {
	ctx := context.Background()
	_, c, clk := start(t)
	out := awstest.Call(t, c.CreateSecret, &secretsmanager.CreateSecretInput{Name: aws.String("app/db"), SecretString: aws.String(`{"user":"admin","password":"pw"}`),
		Description: aws.String("database"), KmsKeyId: aws.String("alias/app"), ClientRequestToken: aws.String(token1),
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("core")}}, ForceOverwriteReplicaSecret: true})
	m := arnPattern.FindStringSubmatch(aws.ToString(out.ARN))
	if m == nil || m[1] != "app/db" {
		t.Errorf("ARN: got %s, want the name and a hyphen and 6 random characters", aws.ToString(out.ARN))
	}
	if aws.ToString(out.VersionId) != token1 {
		t.Errorf("VersionId: got %s, want the ClientRequestToken %s", aws.ToString(out.VersionId), token1)
	}
	bin := awstest.Call(t, c.CreateSecret, &secretsmanager.CreateSecretInput{Name: aws.String("blob"), SecretBinary: []byte{0, 1, 2, 255}})

	partial := strings.TrimSuffix(aws.ToString(out.ARN), aws.ToString(out.ARN)[len(aws.ToString(out.ARN))-7:])
	for _, id := range []string{"app/db", aws.ToString(out.ARN), partial} {
		got := awstest.Call(t, c.GetSecretValue, &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)})
		if aws.ToString(got.SecretString) != `{"user":"admin","password":"pw"}` || aws.ToString(got.ARN) != aws.ToString(out.ARN) ||
			!slices.Equal(got.VersionStages, []string{"AWSCURRENT"}) || !got.CreatedDate.Equal(clk.Now()) {
			t.Errorf("GetSecretValue %s: got %q %s %v %v", id, aws.ToString(got.SecretString), aws.ToString(got.ARN), got.VersionStages, got.CreatedDate)
		}
	}
	got := awstest.Call(t, c.GetSecretValue, &secretsmanager.GetSecretValueInput{SecretId: bin.ARN})
	if !bytes.Equal(got.SecretBinary, []byte{0, 1, 2, 255}) || got.SecretString != nil {
		t.Errorf("binary secret: got %v %v", got.SecretBinary, got.SecretString)
	}

	d, err := c.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("app/db")})
	if err != nil {
		t.Fatal(err)
	}
	gotD := []string{aws.ToString(d.Name), aws.ToString(d.Description), aws.ToString(d.KmsKeyId), aws.ToString(d.Tags[0].Key), fmt.Sprint(d.VersionIdsToStages)}
	if diff := cmp.Diff([]string{"app/db", "database", "alias/app", "team", "map[" + token1 + ":[AWSCURRENT]]"}, gotD); diff != "" {
		t.Errorf("DescribeSecret (-want +got):\n%s", diff)
	}
	today := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	if !d.CreatedDate.Equal(clk.Now()) || !d.LastChangedDate.Equal(clk.Now()) || d.LastAccessedDate == nil || !d.LastAccessedDate.Equal(today) || d.DeletedDate != nil {
		t.Errorf("dates: created %v changed %v accessed %v deleted %v", d.CreatedDate, d.LastChangedDate, d.LastAccessedDate, d.DeletedDate)
	}

	// A secret without a value has no AWSCURRENT version yet.
	awstest.Call(t, c.CreateSecret, &secretsmanager.CreateSecretInput{Name: aws.String("empty")})
	_, err = c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("empty")})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "ResourceNotFoundException", Status: 400, Message: "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT"})
	_, err = c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("nope")})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "ResourceNotFoundException", Status: 400, Message: "Secrets Manager can't find the specified secret."})
	arn := aws.ToString(out.ARN)
	wrong := arn[:len(arn)-1] + "Z"
	if strings.HasSuffix(arn, "Z") {
		wrong = arn[:len(arn)-1] + "Y"
	}
	_, err = c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(wrong)})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "ResourceNotFoundException", Status: 400, Message: "Secrets Manager can't find the specified secret."})
}

func TestCreateRejects(t *testing.T) {
	ctx := context.Background()
	_, c, _ := start(t)
	awstest.Call(t, c.CreateSecret, &secretsmanager.CreateSecretInput{Name: aws.String("taken"), SecretString: aws.String("v"), ClientRequestToken: aws.String(token1)})

	// A retry with the same token and value answers like the first call.
	again, err := c.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("taken"), SecretString: aws.String("v"), ClientRequestToken: aws.String(token1)})
	if err != nil || aws.ToString(again.VersionId) != token1 {
		t.Errorf("idempotent retry: got %v %v, want version %s", again, err, token1)
	}
	refused := func(name string, in secretsmanager.CreateSecretInput, code, contains string) awstest.ErrorCase {
		return awstest.ErrorCase{Name: name, Call: awstest.Fails(c.CreateSecret, &in), Want: awstest.APIError{Code: code, Status: 400, Message: contains}}
	}
	awstest.RunErrorCases(t, []awstest.ErrorCase{
		refused("exists", secretsmanager.CreateSecretInput{Name: aws.String("taken"), SecretString: aws.String("other")},
			"ResourceExistsException", "The operation failed because the secret taken already exists."),
		refused("both values", secretsmanager.CreateSecretInput{Name: aws.String("x"), SecretString: aws.String("v"), SecretBinary: []byte("b")},
			"InvalidParameterException", "You can't specify both a binary secret value and a string secret value in the same secret."),
		refused("bad name", secretsmanager.CreateSecretInput{Name: aws.String("has space")}, "InvalidParameterException", "Invalid name."),
		refused("short token", secretsmanager.CreateSecretInput{Name: aws.String("x"), SecretString: aws.String("v"), ClientRequestToken: aws.String("short")},
			"ValidationException", "1 validation error detected: Value 'short' at 'clientRequestToken' failed to satisfy constraint: Member must have length greater than or equal to 32"),
		refused("empty string", secretsmanager.CreateSecretInput{Name: aws.String("x"), SecretString: aws.String("")},
			"ValidationException", "1 validation error detected: Value at 'secretString' failed to satisfy constraint: Member must have length greater than or equal to 1"),
		refused("value too large", secretsmanager.CreateSecretInput{Name: aws.String("x"), SecretString: aws.String(strings.Repeat("v", 65537))},
			"ValidationException", "1 validation error detected: Value at 'secretString' failed to satisfy constraint: Member must have length less than or equal to 65536"),
	})
}

func TestVersionsAndStages(t *testing.T) {
	ctx := context.Background()
	_, c, clk := start(t)
	first := awstest.Call(t, c.CreateSecret, &secretsmanager.CreateSecretInput{Name: aws.String("s"), SecretString: aws.String("one")})
	clk.Advance(time.Minute)
	put, err := c.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("s"), SecretString: aws.String("two")})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(put.VersionStages, []string{"AWSCURRENT"}) {
		t.Errorf("PutSecretValue stages: got %v", put.VersionStages)
	}
	stage := func(st string) string {
		return aws.ToString(awstest.Call(t, c.GetSecretValue, &secretsmanager.GetSecretValueInput{SecretId: aws.String("s"), VersionStage: aws.String(st)}).SecretString)
	}
	if cur, prev := stage("AWSCURRENT"), stage("AWSPREVIOUS"); cur != "two" || prev != "one" {
		t.Errorf("after a put: AWSCURRENT %q AWSPREVIOUS %q, want two one", cur, prev)
	}
	if got := awstest.Call(t, c.GetSecretValue, &secretsmanager.GetSecretValueInput{SecretId: aws.String("s"), VersionId: first.VersionId}); aws.ToString(got.SecretString) != "one" {
		t.Errorf("by VersionId: got %q, want one", aws.ToString(got.SecretString))
	}

	// Custom stages leave AWSCURRENT where it is.
	pending, err := c.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("s"), SecretString: aws.String("three"),
		VersionStages: []string{"AWSPENDING"}, ClientRequestToken: aws.String(token1)})
	if err != nil {
		t.Fatal(err)
	}
	if stage("AWSCURRENT") != "two" || stage("AWSPENDING") != "three" {
		t.Errorf("custom stage moved AWSCURRENT")
	}
	// The same token and value again is a no-op; another value is refused.
	retry, err := c.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("s"), SecretString: aws.String("three"),
		VersionStages: []string{"AWSPENDING"}, ClientRequestToken: aws.String(token1)})
	if err != nil || aws.ToString(retry.VersionId) != aws.ToString(pending.VersionId) {
		t.Errorf("idempotent put: got %v %v", retry, err)
	}
	_, err = c.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("s"), SecretString: aws.String("four"), ClientRequestToken: aws.String(token1)})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "ResourceExistsException", Status: 400, Message: "You can't modify an existing version, you can only create a new version."})
	_, err = c.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("s")})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "InvalidRequestException", Status: 400, Message: "You must provide either SecretString or SecretBinary."})
	_, err = c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("s"), VersionStage: aws.String("NOPE")})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "ResourceNotFoundException", Status: 400, Message: "Secrets Manager can't find the specified secret value for staging label: NOPE"})
	_, err = c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("s"), VersionId: aws.String("22222222-2222-4222-8222-222222222222")})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "ResourceNotFoundException", Status: 400, Message: "Secrets Manager can't find the specified secret value for VersionId: 22222222-2222-4222-8222-222222222222"})
	_, err = c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("s"), VersionId: first.VersionId, VersionStage: aws.String("AWSCURRENT")})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "InvalidRequestException", Status: 400, Message: "You provided a VersionStage that is not associated to the provided VersionId."})

	// A third AWSCURRENT deprecates the first version: no labels left.
	if _, err := c.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("s"), SecretString: aws.String("five")}); err != nil {
		t.Fatal(err)
	}
	list := func(deprecated bool) map[string][]string {
		out, err := c.ListSecretVersionIds(ctx, &secretsmanager.ListSecretVersionIdsInput{SecretId: aws.String("s"), IncludeDeprecated: aws.Bool(deprecated)})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string][]string{}
		for _, v := range out.Versions {
			got[aws.ToString(v.VersionId)] = v.VersionStages
			if len(v.KmsKeyIds) != 1 {
				t.Errorf("KmsKeyIds: got %v", v.KmsKeyIds)
			}
		}
		return got
	}
	live := list(false)
	if len(live) != 3 || !slices.Equal(live[aws.ToString(put.VersionId)], []string{"AWSPREVIOUS"}) || !slices.Equal(live[token1], []string{"AWSPENDING"}) {
		t.Errorf("ListSecretVersionIds: got %v", live)
	}
	all := list(true)
	if stages, ok := all[aws.ToString(first.VersionId)]; len(all) != 4 || !ok || len(stages) != 0 {
		t.Errorf("ListSecretVersionIds IncludeDeprecated: got %v, want the first version without stages", all)
	}
	d, err := c.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("s")})
	if err != nil || len(d.VersionIdsToStages) != 3 {
		t.Errorf("VersionIdsToStages: got %v %v, want the 3 labelled versions", d.VersionIdsToStages, err)
	}
}

func TestUpdateSecretVersionStage(t *testing.T) {
	ctx := context.Background()
	_, c, _ := start(t)
	v1 := awstest.Call(t, c.CreateSecret, &secretsmanager.CreateSecretInput{Name: aws.String("s"), SecretString: aws.String("one")}).VersionId
	put, err := c.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("s"), SecretString: aws.String("two")})
	if err != nil {
		t.Fatal(err)
	}
	v2 := put.VersionId
	_, err = c.UpdateSecretVersionStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{SecretId: aws.String("s"), VersionStage: aws.String("AWSCURRENT"), MoveToVersionId: v1})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "InvalidParameterException", Status: 400, Message: "The parameter RemoveFromVersionId can't be empty. Staging label AWSCURRENT is currently attached to version " + aws.ToString(v2)})

	// Rolling back: AWSCURRENT to v1, and AWSPREVIOUS follows to v2.
	if _, err := c.UpdateSecretVersionStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{SecretId: aws.String("s"), VersionStage: aws.String("AWSCURRENT"),
		MoveToVersionId: v1, RemoveFromVersionId: v2}); err != nil {
		t.Fatal(err)
	}
	d, err := c.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("s")})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{aws.ToString(v1): {"AWSCURRENT"}, aws.ToString(v2): {"AWSPREVIOUS"}}
	if diff := cmp.Diff(want, d.VersionIdsToStages); diff != "" {
		t.Errorf("after rollback (-want +got):\n%s", diff)
	}
	// A custom label comes and goes.
	if _, err := c.UpdateSecretVersionStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{SecretId: aws.String("s"), VersionStage: aws.String("blue"), MoveToVersionId: v2}); err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(awstest.Call(t, c.GetSecretValue, &secretsmanager.GetSecretValueInput{SecretId: aws.String("s"), VersionStage: aws.String("blue")}).SecretString); got != "two" {
		t.Errorf("custom stage: got %q", got)
	}
	if _, err := c.UpdateSecretVersionStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{SecretId: aws.String("s"), VersionStage: aws.String("blue"), RemoveFromVersionId: v2}); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("s"), VersionStage: aws.String("blue")})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "ResourceNotFoundException", Status: 400})
	_, err = c.UpdateSecretVersionStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{SecretId: aws.String("s"), VersionStage: aws.String("AWSCURRENT"), RemoveFromVersionId: v1})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "InvalidParameterException", Status: 400, Message: "AWSCURRENT"})
	_, err = c.UpdateSecretVersionStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{SecretId: aws.String("s"), VersionStage: aws.String("x"), MoveToVersionId: aws.String("no-such-version-000000000000000000")})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "InvalidParameterException", Status: 400})
}

func TestUpdateSecret(t *testing.T) {
	ctx := context.Background()
	_, c, clk := start(t)
	created := awstest.Call(t, c.CreateSecret, &secretsmanager.CreateSecretInput{Name: aws.String("u"), SecretString: aws.String("one")})
	clk.Advance(time.Hour)
	out, err := c.UpdateSecret(ctx, &secretsmanager.UpdateSecretInput{SecretId: aws.String("u"), Description: aws.String("new desc"), KmsKeyId: aws.String("alias/other")})
	if err != nil {
		t.Fatal(err)
	}
	if out.VersionId != nil {
		t.Errorf("metadata-only update: got version %s, want none", aws.ToString(out.VersionId))
	}
	out, err = c.UpdateSecret(ctx, &secretsmanager.UpdateSecretInput{SecretId: created.ARN, SecretString: aws.String("two")})
	if err != nil || out.VersionId == nil {
		t.Fatalf("value update: got %v %v", out, err)
	}
	d, err := c.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("u")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(d.Description) != "new desc" || aws.ToString(d.KmsKeyId) != "alias/other" || !d.LastChangedDate.Equal(clk.Now()) ||
		!slices.Equal(d.VersionIdsToStages[aws.ToString(out.VersionId)], []string{"AWSCURRENT"}) ||
		!slices.Equal(d.VersionIdsToStages[aws.ToString(created.VersionId)], []string{"AWSPREVIOUS"}) {
		t.Errorf("after UpdateSecret: %+v", d)
	}
	_, err = c.UpdateSecret(ctx, &secretsmanager.UpdateSecretInput{SecretId: aws.String("u"), SecretString: aws.String("a"), SecretBinary: []byte("b")})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "InvalidParameterException", Status: 400, Message: "You can't specify both"})
	_, err = c.UpdateSecret(ctx, &secretsmanager.UpdateSecretInput{SecretId: aws.String("gone"), Description: aws.String("x")})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "ResourceNotFoundException", Status: 400, Message: "Secrets Manager can't find the specified secret."})
}

func TestDeleteAndRestore(t *testing.T) {
	ctx := context.Background()
	srv, c, clk := start(t)
	created := awstest.Call(t, c.CreateSecret, &secretsmanager.CreateSecretInput{Name: aws.String("d"), SecretString: aws.String("v")})

	for _, tt := range []struct {
		in       secretsmanager.DeleteSecretInput
		contains string
	}{
		{secretsmanager.DeleteSecretInput{SecretId: aws.String("d"), RecoveryWindowInDays: aws.Int64(6)}, "The RecoveryWindowInDays value must be between 7 and 30 days (inclusive)."},
		{secretsmanager.DeleteSecretInput{SecretId: aws.String("d"), RecoveryWindowInDays: aws.Int64(31)}, "between 7 and 30 days"},
		{secretsmanager.DeleteSecretInput{SecretId: aws.String("d"), RecoveryWindowInDays: aws.Int64(7), ForceDeleteWithoutRecovery: aws.Bool(true)},
			"You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays."},
	} {
		_, err := c.DeleteSecret(ctx, &tt.in)
		awstest.WantAPIError(t, err, awstest.APIError{Code: "InvalidParameterException", Status: 400, Message: tt.contains})
	}

	del, err := c.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: aws.String("d")})
	if err != nil {
		t.Fatal(err)
	}
	due := clk.Now().Add(30 * 24 * time.Hour)
	if !del.DeletionDate.Equal(due) || aws.ToString(del.ARN) != aws.ToString(created.ARN) {
		t.Errorf("DeleteSecret: got %v %s, want the default 30-day window", del.DeletionDate, aws.ToString(del.ARN))
	}
	_, err = c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("d")})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "InvalidRequestException", Status: 400, Message: "You can't perform this operation on the secret because it was marked for deletion."})
	_, err = c.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("d"), SecretString: aws.String("x")})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "InvalidRequestException", Status: 400, Message: "marked for deletion"})
	_, err = c.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: aws.String("d")})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "InvalidRequestException", Status: 400, Message: "You tried to perform the operation on a secret that's currently marked deleted."})
	_, err = c.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("d"), SecretString: aws.String("v")})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "InvalidRequestException", Status: 400, Message: "You can't create this secret because a secret with this name is already scheduled for deletion."})

	d, err := c.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("d")})
	if err != nil || d.DeletedDate == nil || !d.DeletedDate.Equal(due) {
		t.Errorf("DescribeSecret of a deleted secret: got %v %v, want DeletedDate %v", d, err, due)
	}
	names := func(include bool) []string {
		out, err := c.ListSecrets(ctx, &secretsmanager.ListSecretsInput{IncludePlannedDeletion: aws.Bool(include)})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, s := range out.SecretList {
			got = append(got, aws.ToString(s.Name))
		}
		return got
	}
	if got := names(false); len(got) != 0 {
		t.Errorf("ListSecrets: got %v, want the deleted secret left out", got)
	}
	if got := names(true); !slices.Equal(got, []string{"d"}) {
		t.Errorf("ListSecrets IncludePlannedDeletion: got %v, want [d]", got)
	}

	if _, err := c.RestoreSecret(ctx, &secretsmanager.RestoreSecretInput{SecretId: aws.String("d")}); err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(awstest.Call(t, c.GetSecretValue, &secretsmanager.GetSecretValueInput{SecretId: aws.String("d")}).SecretString); got != "v" {
		t.Errorf("after restore: got %q, want v", got)
	}

	// Deleted again with the shortest window, the secret is gone once it
	// passes, and survives a restart in between while it lasts.
	if _, err := c.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: aws.String("d"), RecoveryWindowInDays: aws.Int64(7)}); err != nil {
		t.Fatal(err)
	}
	clk.Advance(6 * 24 * time.Hour)
	srv.Restart(t)
	c = secretsmanager.NewFromConfig(srv.Config())
	if _, err := c.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("d")}); err != nil {
		t.Errorf("6 days into a 7-day window: %v", err)
	}
	clk.Advance(24 * time.Hour)
	_, err = c.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("d")})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "ResourceNotFoundException", Status: 400, Message: "Secrets Manager can't find the specified secret."})
	_, err = c.RestoreSecret(ctx, &secretsmanager.RestoreSecretInput{SecretId: aws.String("d")})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "ResourceNotFoundException", Status: 400})
	recreated := awstest.Call(t, c.CreateSecret, &secretsmanager.CreateSecretInput{Name: aws.String("d"), SecretString: aws.String("new")})
	if aws.ToString(recreated.ARN) == aws.ToString(created.ARN) {
		t.Errorf("a re-created secret got the old ARN %s", aws.ToString(created.ARN))
	}

	// Forced deletion is immediate, and idempotent.
	if _, err := c.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: aws.String("d"), ForceDeleteWithoutRecovery: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("d")})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "ResourceNotFoundException", Status: 400})
	if _, err := c.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: aws.String("d"), ForceDeleteWithoutRecovery: aws.Bool(true)}); err != nil {
		t.Errorf("forced deletion of a missing secret: %v", err)
	}
	_, err = c.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: aws.String("d")})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "ResourceNotFoundException", Status: 400})
}

func TestListSecrets(t *testing.T) {
	ctx := context.Background()
	_, c, clk := start(t)
	for i, s := range []struct{ name, desc, tagKey, tagValue string }{
		{"prod/db", "Production database", "env", "prod"},
		{"prod/api-key", "API key for billing", "env", "prod"},
		{"dev/db", "development database", "env", "dev"},
		{"other", "", "owner", "alice"},
	} {
		clk.Advance(time.Duration(i+1) * time.Minute)
		awstest.Call(t, c.CreateSecret, &secretsmanager.CreateSecretInput{Name: aws.String(s.name), SecretString: aws.String("v"), Description: aws.String(s.desc),
			Tags: []types.Tag{{Key: aws.String(s.tagKey), Value: aws.String(s.tagValue)}}})
	}
	list := func(in *secretsmanager.ListSecretsInput) []string {
		t.Helper()
		var got []string
		p := secretsmanager.NewListSecretsPaginator(c, in)
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if in.MaxResults != nil && len(page.SecretList) > int(*in.MaxResults) {
				t.Errorf("page of %d, over MaxResults %d", len(page.SecretList), *in.MaxResults)
			}
			for _, s := range page.SecretList {
				got = append(got, aws.ToString(s.Name))
				if len(s.SecretVersionsToStages) != 1 {
					t.Errorf("%s: SecretVersionsToStages %v", aws.ToString(s.Name), s.SecretVersionsToStages)
				}
			}
		}
		return got
	}
	f := func(key types.FilterNameStringType, values ...string) []types.Filter {
		return []types.Filter{{Key: key, Values: values}}
	}
	tests := []struct {
		name string
		in   secretsmanager.ListSecretsInput
		want []string
	}{
		{"created ascending by default", secretsmanager.ListSecretsInput{}, []string{"prod/db", "prod/api-key", "dev/db", "other"}},
		{"created descending", secretsmanager.ListSecretsInput{SortOrder: types.SortOrderTypeDesc}, []string{"other", "dev/db", "prod/api-key", "prod/db"}},
		{"by name", secretsmanager.ListSecretsInput{SortBy: types.SortByTypeName}, []string{"dev/db", "other", "prod/api-key", "prod/db"}},
		{"paged", secretsmanager.ListSecretsInput{MaxResults: aws.Int32(1), SortBy: types.SortByTypeName}, []string{"dev/db", "other", "prod/api-key", "prod/db"}},
		{"name prefix", secretsmanager.ListSecretsInput{Filters: f(types.FilterNameStringTypeName, "prod/")}, []string{"prod/db", "prod/api-key"}},
		{"name is case-sensitive", secretsmanager.ListSecretsInput{Filters: f(types.FilterNameStringTypeName, "PROD")}, nil},
		{"name negated", secretsmanager.ListSecretsInput{Filters: f(types.FilterNameStringTypeName, "!prod")}, []string{"dev/db", "other"}},
		{"names or'ed", secretsmanager.ListSecretsInput{Filters: f(types.FilterNameStringTypeName, "dev", "other")}, []string{"dev/db", "other"}},
		{"description ignores case", secretsmanager.ListSecretsInput{Filters: f(types.FilterNameStringTypeDescription, "production")}, []string{"prod/db"}},
		{"tag key", secretsmanager.ListSecretsInput{Filters: f(types.FilterNameStringTypeTagKey, "own")}, []string{"other"}},
		{"tag value", secretsmanager.ListSecretsInput{Filters: f(types.FilterNameStringTypeTagValue, "prod")}, []string{"prod/db", "prod/api-key"}},
		{"filters and'ed", secretsmanager.ListSecretsInput{Filters: []types.Filter{
			{Key: types.FilterNameStringTypeTagValue, Values: []string{"prod"}}, {Key: types.FilterNameStringTypeDescription, Values: []string{"api"}}}}, []string{"prod/api-key"}},
		{"all", secretsmanager.ListSecretsInput{Filters: f(types.FilterNameStringTypeAll, "database")}, []string{"prod/db", "dev/db"}},
		{"all words", secretsmanager.ListSecretsInput{Filters: f(types.FilterNameStringTypeAll, "ALICE")}, []string{"other"}},
		{"primary region", secretsmanager.ListSecretsInput{Filters: f(types.FilterNameStringTypePrimaryRegion, "us-east-1")}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, list(&tt.in)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	_, err := c.ListSecrets(ctx, &secretsmanager.ListSecretsInput{Filters: f("colour", "x")})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "ValidationException", Status: 400, Message: "Member must satisfy enum value set"})
	_, err = c.ListSecrets(ctx, &secretsmanager.ListSecretsInput{MaxResults: aws.Int32(101)})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "ValidationException", Status: 400, Message: "Member must have value less than or equal to 100"})
	_, err = c.ListSecrets(ctx, &secretsmanager.ListSecretsInput{NextToken: aws.String("garbage")})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "InvalidNextTokenException", Status: 400})
}

func TestTags(t *testing.T) {
	ctx := context.Background()
	_, c, _ := start(t)
	awstest.Call(t, c.CreateSecret, &secretsmanager.CreateSecretInput{Name: aws.String("t"), SecretString: aws.String("v"), Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("1")}}})
	if _, err := c.TagResource(ctx, &secretsmanager.TagResourceInput{SecretId: aws.String("t"),
		Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("2")}, {Key: aws.String("b"), Value: aws.String("3")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UntagResource(ctx, &secretsmanager.UntagResourceInput{SecretId: aws.String("t"), TagKeys: []string{"b", "missing"}}); err != nil {
		t.Fatal(err)
	}
	d, err := c.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("t")})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Tags) != 1 || aws.ToString(d.Tags[0].Key) != "a" || aws.ToString(d.Tags[0].Value) != "2" {
		t.Errorf("tags: got %v, want a=2", d.Tags)
	}
	_, err = c.TagResource(ctx, &secretsmanager.TagResourceInput{SecretId: aws.String("nope"), Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("1")}}})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "ResourceNotFoundException", Status: 400})
}

func TestGetRandomPassword(t *testing.T) {
	ctx := context.Background()
	_, c, _ := start(t)
	has := func(pw, set string) bool { return strings.ContainsAny(pw, set) }
	const (
		lower = "abcdefghijklmnopqrstuvwxyz"
		upper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		digit = "0123456789"
		punct = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
	)
	tests := []struct {
		name   string
		in     secretsmanager.GetRandomPasswordInput
		length int
		check  func(string) bool
	}{
		{"defaults", secretsmanager.GetRandomPasswordInput{}, 32, func(pw string) bool {
			return has(pw, lower) && has(pw, upper) && has(pw, digit) && has(pw, punct) && !has(pw, " ")
		}},
		{"length", secretsmanager.GetRandomPasswordInput{PasswordLength: aws.Int64(4096)}, 4096, func(string) bool { return true }},
		{"each type in 4", secretsmanager.GetRandomPasswordInput{PasswordLength: aws.Int64(4)}, 4, func(pw string) bool {
			return has(pw, lower) && has(pw, upper) && has(pw, digit) && has(pw, punct)
		}},
		{"no punctuation", secretsmanager.GetRandomPasswordInput{ExcludePunctuation: aws.Bool(true)}, 32, func(pw string) bool { return !has(pw, punct) }},
		{"digits only", secretsmanager.GetRandomPasswordInput{ExcludeLowercase: aws.Bool(true), ExcludeUppercase: aws.Bool(true), ExcludePunctuation: aws.Bool(true)}, 32,
			func(pw string) bool { return strings.Trim(pw, digit) == "" }},
		{"no numbers", secretsmanager.GetRandomPasswordInput{ExcludeNumbers: aws.Bool(true)}, 32, func(pw string) bool { return !has(pw, digit) }},
		{"exclude characters", secretsmanager.GetRandomPasswordInput{ExcludeCharacters: aws.String("aeiouAEIOU0123456789")}, 32,
			func(pw string) bool { return !has(pw, "aeiouAEIOU0123456789") }},
		{"space", secretsmanager.GetRandomPasswordInput{IncludeSpace: aws.Bool(true), PasswordLength: aws.Int64(2000), ExcludePunctuation: aws.Bool(true)}, 2000,
			func(pw string) bool { return has(pw, " ") }},
		{"not each type", secretsmanager.GetRandomPasswordInput{PasswordLength: aws.Int64(1), RequireEachIncludedType: aws.Bool(false)}, 1, func(string) bool { return true }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := c.GetRandomPassword(ctx, &tt.in)
			if err != nil {
				t.Fatal(err)
			}
			pw := aws.ToString(out.RandomPassword)
			if len(pw) != tt.length || !tt.check(pw) {
				t.Errorf("got %q (%d characters)", pw, len(pw))
			}
		})
	}
	a, _ := c.GetRandomPassword(ctx, &secretsmanager.GetRandomPasswordInput{})
	b, _ := c.GetRandomPassword(ctx, &secretsmanager.GetRandomPasswordInput{})
	if aws.ToString(a.RandomPassword) == aws.ToString(b.RandomPassword) {
		t.Errorf("two passwords are equal")
	}
	_, err := c.GetRandomPassword(ctx, &secretsmanager.GetRandomPasswordInput{PasswordLength: aws.Int64(4097)})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "ValidationException", Status: 400, Message: "Value '4097' at 'passwordLength' failed to satisfy constraint: Member must have value less than or equal to 4096"})
	_, err = c.GetRandomPassword(ctx, &secretsmanager.GetRandomPasswordInput{PasswordLength: aws.Int64(3)})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "InvalidParameterException", Status: 400, Message: "Password length is too short based on the required types."})
	_, err = c.GetRandomPassword(ctx, &secretsmanager.GetRandomPasswordInput{ExcludeLowercase: aws.Bool(true), ExcludeUppercase: aws.Bool(true),
		ExcludeNumbers: aws.Bool(true), ExcludePunctuation: aws.Bool(true)})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "InvalidParameterException", Status: 400})
}

func TestBatchGetSecretValue(t *testing.T) {
	ctx := context.Background()
	_, c, _ := start(t)
	for _, n := range []string{"b/one", "b/two", "b/three", "gone"} {
		awstest.Call(t, c.CreateSecret, &secretsmanager.CreateSecretInput{Name: aws.String(n), SecretString: aws.String("value of " + n)})
	}
	if _, err := c.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: aws.String("gone")}); err != nil {
		t.Fatal(err)
	}
	out, err := c.BatchGetSecretValue(ctx, &secretsmanager.BatchGetSecretValueInput{SecretIdList: []string{"b/one", "missing", "gone", "b/two"}})
	if err != nil {
		t.Fatal(err)
	}
	var values, errs []string
	for _, v := range out.SecretValues {
		values = append(values, aws.ToString(v.SecretString))
	}
	for _, e := range out.Errors {
		errs = append(errs, aws.ToString(e.SecretId)+" "+aws.ToString(e.ErrorCode))
	}
	if diff := cmp.Diff([][]string{{"value of b/one", "value of b/two"}, {"missing ResourceNotFoundException", "gone InvalidRequestException"}}, [][]string{values, errs}); diff != "" {
		t.Errorf("by IDs (-want +got):\n%s", diff)
	}

	values = nil
	p := secretsmanager.NewBatchGetSecretValuePaginator(c, &secretsmanager.BatchGetSecretValueInput{MaxResults: aws.Int32(2),
		Filters: []types.Filter{{Key: types.FilterNameStringTypeName, Values: []string{"b/"}}}})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range page.SecretValues {
			values = append(values, aws.ToString(v.Name))
		}
	}
	if diff := cmp.Diff([]string{"b/one", "b/three", "b/two"}, values); diff != "" {
		t.Errorf("by filters (-want +got):\n%s", diff)
	}
	_, err = c.BatchGetSecretValue(ctx, &secretsmanager.BatchGetSecretValueInput{SecretIdList: []string{"b/one"}, Filters: []types.Filter{{Key: "name", Values: []string{"b"}}}})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "InvalidParameterException", Status: 400, Message: "Either 'SecretIdList' or 'Filters' must be provided, but not both."})
	_, err = c.BatchGetSecretValue(ctx, &secretsmanager.BatchGetSecretValueInput{SecretIdList: []string{"b/one"}, MaxResults: aws.Int32(2)})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "InvalidParameterException", Status: 400, Message: "'Filters' must also be specified when 'MaxResults' is provided."})
}

func TestResourcePolicy(t *testing.T) {
	ctx := context.Background()
	_, c, _ := start(t)
	awstest.Call(t, c.CreateSecret, &secretsmanager.CreateSecretInput{Name: aws.String("p"), SecretString: aws.String("v")})
	const policy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}]}`
	const public = `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"secretsmanager:GetSecretValue","Resource":"*"}}`
	got, err := c.GetResourcePolicy(ctx, &secretsmanager.GetResourcePolicyInput{SecretId: aws.String("p")})
	if err != nil || got.ResourcePolicy != nil || aws.ToString(got.Name) != "p" {
		t.Errorf("before any policy: got %v %v", got, err)
	}
	if _, err := c.PutResourcePolicy(ctx, &secretsmanager.PutResourcePolicyInput{SecretId: aws.String("p"), ResourcePolicy: aws.String(policy)}); err != nil {
		t.Fatal(err)
	}
	got, err = c.GetResourcePolicy(ctx, &secretsmanager.GetResourcePolicyInput{SecretId: aws.String("p")})
	if err != nil || aws.ToString(got.ResourcePolicy) != policy {
		t.Errorf("GetResourcePolicy: got %v %v", got, err)
	}
	_, err = c.PutResourcePolicy(ctx, &secretsmanager.PutResourcePolicyInput{SecretId: aws.String("p"), ResourcePolicy: aws.String("{not json")})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "MalformedPolicyDocumentException", Status: 400, Message: "syntax error"})
	_, err = c.PutResourcePolicy(ctx, &secretsmanager.PutResourcePolicyInput{SecretId: aws.String("p"), ResourcePolicy: aws.String(public), BlockPublicPolicy: aws.Bool(true)})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "PublicPolicyException", Status: 400})
	if _, err := c.PutResourcePolicy(ctx, &secretsmanager.PutResourcePolicyInput{SecretId: aws.String("p"), ResourcePolicy: aws.String(public)}); err != nil {
		t.Errorf("a public policy without BlockPublicPolicy: %v", err)
	}
	v, err := c.ValidateResourcePolicy(ctx, &secretsmanager.ValidateResourcePolicyInput{ResourcePolicy: aws.String(`{"Statement":[{"Effect":"Maybe"}]}`)})
	if err != nil || v.PolicyValidationPassed || len(v.ValidationErrors) == 0 {
		t.Errorf("ValidateResourcePolicy of a bad policy: got %+v %v", v, err)
	}
	if _, err := c.DeleteResourcePolicy(ctx, &secretsmanager.DeleteResourcePolicyInput{SecretId: aws.String("p")}); err != nil {
		t.Fatal(err)
	}
	got, err = c.GetResourcePolicy(ctx, &secretsmanager.GetResourcePolicyInput{SecretId: aws.String("p")})
	if err != nil || got.ResourcePolicy != nil {
		t.Errorf("after DeleteResourcePolicy: got %v %v", got, err)
	}
	_, err = c.GetResourcePolicy(ctx, &secretsmanager.GetResourcePolicyInput{SecretId: aws.String("nope")})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "ResourceNotFoundException", Status: 400})
}

func TestAccountsAndRegionsAreSeparate(t *testing.T) {
	ctx := context.Background()
	srv, c, _ := start(t)
	created := awstest.Call(t, c.CreateSecret, &secretsmanager.CreateSecretInput{Name: aws.String("shared"), SecretString: aws.String("east")})
	west := srv.Config()
	west.Region = "eu-west-1"
	for name, cfg := range map[string]aws.Config{"other region": west, "other account": srv.ConfigWith("123456789012", "x", "")} {
		oc := secretsmanager.NewFromConfig(cfg)
		_, err := oc.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("shared")})
		awstest.WantAPIError(t, err, awstest.APIError{Code: "ResourceNotFoundException", Status: 400})
		_, err = oc.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: created.ARN})
		awstest.WantAPIError(t, err, awstest.APIError{Code: "ResourceNotFoundException", Status: 400})
		awstest.Call(t, oc.CreateSecret, &secretsmanager.CreateSecretInput{Name: aws.String("shared"), SecretString: aws.String(name)})
	}
	if got := aws.ToString(awstest.Call(t, c.GetSecretValue, &secretsmanager.GetSecretValueInput{SecretId: aws.String("shared")}).SecretString); got != "east" {
		t.Errorf("got %q, want east", got)
	}
}

func TestRestartKeepsSecretsEncrypted(t *testing.T) {
	srv, c, _ := start(t)
	const plain = "SECRET-canary-c0ffee"
	created := awstest.Call(t, c.CreateSecret, &secretsmanager.CreateSecretInput{Name: aws.String("canary"), SecretString: aws.String(plain),
		Description: aws.String("VISIBLE-description-canary")})
	if _, err := c.PutSecretValue(context.Background(), &secretsmanager.PutSecretValueInput{SecretId: aws.String("canary"), SecretBinary: []byte(plain + "-binary")}); err != nil {
		t.Fatal(err)
	}
	srv.Restart(t)
	c = secretsmanager.NewFromConfig(srv.Config())
	if got := awstest.Call(t, c.GetSecretValue, &secretsmanager.GetSecretValueInput{SecretId: created.ARN, VersionStage: aws.String("AWSPREVIOUS")}); aws.ToString(got.SecretString) != plain {
		t.Errorf("after restart: got %q", aws.ToString(got.SecretString))
	}
	if got := awstest.Call(t, c.GetSecretValue, &secretsmanager.GetSecretValueInput{SecretId: aws.String("canary")}); string(got.SecretBinary) != plain+"-binary" {
		t.Errorf("after restart: got %q", got.SecretBinary)
	}
	srv.Restart(t) // a clean shutdown checkpoints the WAL into the database file
	srv.WantSealedOnDisk(t, plain, "VISIBLE-description-canary")
}

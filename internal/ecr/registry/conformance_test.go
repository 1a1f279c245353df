package registry_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"

	"overcast/internal/awstest"
)

// conformanceBinary builds the OCI distribution-spec conformance suite, a
// tool of this module (go.mod's tool directive pins its version), and
// returns its path.
func conformanceBinary(t *testing.T) string {
	t.Helper()
	// Only stdout holds the path: on a fresh machine stderr also reports
	// the module being downloaded.
	cmd := exec.Command(awstest.GoTool(), "tool", "-n", "conformance")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("building the conformance suite: %v\n%s", err, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// TestOCIConformance runs the OCI distribution-spec conformance suite
// against the registry with every API and data set it knows, including
// the optional ones (upload cancel, tag parameters, digest headers), except
// sparse manifests: ECR, and so overcast, refuses a manifest whose blobs
// were not pushed.
func TestOCIConformance(t *testing.T) {
	if testing.Short() {
		t.Skip("the conformance suite takes a few seconds")
	}
	bin := conformanceBinary(t)
	ctx := context.Background()
	srv := awstest.Start(t)
	c := ecr.NewFromConfig(srv.Config())
	for _, name := range []string{"conformance/repo1", "conformance/repo2"} {
		if _, err := c.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String(name)}); err != nil {
			t.Fatalf("CreateRepository %s: %v", name, err)
		}
	}
	user, pass := srv.RegistryLogin(t)

	results := t.TempDir()
	cmd := exec.Command(bin)
	cmd.Dir = results
	cmd.Env = append(os.Environ(),
		"OCI_REGISTRY="+srv.RegistryHost(),
		"OCI_TLS=disabled",
		"OCI_REPO1=conformance/repo1",
		"OCI_REPO2=conformance/repo2",
		"OCI_USERNAME="+user,
		"OCI_PASSWORD="+pass,
		"OCI_RESULTS_DIR="+results,
		"OCI_VERSION=1.1",
		"OCI_API_BLOBS_UPLOAD_CANCEL=true",
		"OCI_API_BLOBS_DIGEST_HEADER=true",
		"OCI_API_MANIFESTS_DIGEST_HEADER=true",
		"OCI_API_MANIFESTS_TAG_PARAM=true",
		"OCI_DATA_SPARSE=false",
	)
	out, err := cmd.CombinedOutput()
	summary := string(out)
	if i := strings.Index(summary, "OCI Conformance Result:"); i >= 0 {
		summary = summary[i:]
	}
	if err != nil || !strings.Contains(summary, "OCI Conformance Result: Pass") || strings.Contains(summary, ": FAIL") {
		report, _ := os.ReadFile(filepath.Join(results, "results.yaml"))
		t.Fatalf("conformance suite failed (%v):\n%s\n--- results.yaml (head) ---\n%.20000s", err, summary, report)
	}
	for _, line := range strings.Split(summary, "\n") {
		if strings.Contains(line, "Pass....") || strings.Contains(line, "FAIL....") || strings.Contains(line, "Total...") {
			t.Log(strings.TrimSpace(line))
		}
	}
}

package awstest

import (
	"context"
	"encoding/base64"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
)

// GoTool is the go command of the toolchain running the tests, for tests
// that build, list or run packages.
func GoTool() string { return filepath.Join(runtime.GOROOT(), "bin", "go") }

// RegistryLogin is the user name and password docker logs in to the
// registry with: the default account's ECR authorization token, decoded.
func (s *Server) RegistryLogin(t testing.TB) (user, password string) {
	t.Helper()
	out, err := ecr.NewFromConfig(s.Config()).GetAuthorizationToken(context.Background(), &ecr.GetAuthorizationTokenInput{})
	if err != nil {
		t.Fatalf("awstest: GetAuthorizationToken: %v", err)
	}
	raw, err := base64.StdEncoding.DecodeString(aws.ToString(out.AuthorizationData[0].AuthorizationToken))
	if err != nil {
		t.Fatalf("awstest: decoding the authorization token: %v", err)
	}
	user, password, _ = strings.Cut(string(raw), ":")
	return user, password
}

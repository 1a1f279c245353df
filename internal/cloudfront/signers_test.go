package cloudfront_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/cloudfront/sign"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
	"github.com/google/go-cmp/cmp"

	"overcast/internal/awstest"
)

// TestTrustedSigners: a behaviour that trusts an account as a signer
// (the legacy way, before key groups) requires signed URLs made with one
// of that account's keys. On AWS those are key pairs only the root user
// makes in the console; here the account's public keys stand for them, a
// key created later is taken up without touching the distribution, and a
// deleted one stops working.
func TestTrustedSigners(t *testing.T) {
	port := originPort(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=3600")
		io.WriteString(w, "private")
	})

	srv := awstest.Start(t)
	c := cloudfront.NewFromConfig(srv.Config())
	newKey := func(name string) (*ecdsa.PrivateKey, *cloudfront.CreatePublicKeyOutput) {
		private, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		out := awstest.Call(t, c.CreatePublicKey, &cloudfront.CreatePublicKeyInput{PublicKeyConfig: &types.PublicKeyConfig{
			CallerReference: aws.String(name), Name: aws.String(name), EncodedKey: aws.String(publicKeyPEM(t, &private.PublicKey))}})
		return private, out
	}
	first, firstKey := newKey("first")

	cfg := config("signers")
	cfg.Origins.Items[0].CustomOriginConfig.HTTPPort = port
	cfg.DefaultCacheBehavior.TrustedSigners = &types.TrustedSigners{Enabled: aws.Bool(true), Quantity: aws.Int32(1), Items: []string{"self"}}
	d := create(t, c, cfg).Distribution
	active := d.ActiveTrustedSigners
	want := []types.Signer{{AwsAccountNumber: aws.String("self"), KeyPairIds: &types.KeyPairIds{Quantity: aws.Int32(1), Items: []string{aws.ToString(firstKey.PublicKey.Id)}}}}
	if !aws.ToBool(active.Enabled) || aws.ToInt32(active.Quantity) != 1 {
		t.Errorf("ActiveTrustedSigners enabled %v quantity %d, want the one signer", aws.ToBool(active.Enabled), aws.ToInt32(active.Quantity))
	}
	if diff := cmp.Diff(want, active.Items, cmp.AllowUnexported(types.Signer{}, types.KeyPairIds{})); diff != "" {
		t.Errorf("ActiveTrustedSigners items (-want +got):\n%s", diff)
	}
	waitDeployed(t, c, aws.ToString(d.Id))

	file := "http://" + aws.ToString(d.DomainName) + "/a.txt"
	status := func(private *ecdsa.PrivateKey, keyID string) int {
		t.Helper()
		path := "/a.txt"
		if private != nil {
			signed, err := sign.NewURLSigner(keyID, private).Sign(file, time.Now().Add(time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			path = signed[len("http://"+aws.ToString(d.DomainName)):]
		}
		code, _, _ := viewerGet(t, srv.URL, aws.ToString(d.DomainName), path)
		return code
	}
	if got := status(nil, ""); got != http.StatusForbidden {
		t.Errorf("unsigned: got %d, want 403", got)
	}
	if got := status(first, aws.ToString(firstKey.PublicKey.Id)); got != http.StatusOK {
		t.Errorf("signed with the account's key: got %d, want 200", got)
	}

	second, secondKey := newKey("second")
	awstest.WaitFor(t, "a key made later to be trusted", func() bool {
		return status(second, aws.ToString(secondKey.PublicKey.Id)) == http.StatusOK
	})
	awstest.Call(t, c.DeletePublicKey, &cloudfront.DeletePublicKeyInput{Id: firstKey.PublicKey.Id, IfMatch: firstKey.ETag})
	awstest.WaitFor(t, "a deleted key to stop working", func() bool {
		return status(first, aws.ToString(firstKey.PublicKey.Id)) == http.StatusForbidden
	})

	awstest.RunErrorCases(t, []awstest.ErrorCase{
		{Name: "signer that is not an account", Call: awstest.Fails(c.CreateDistribution, &cloudfront.CreateDistributionInput{DistributionConfig: func() *types.DistributionConfig {
			cfg := config("bad-signer")
			cfg.DefaultCacheBehavior.TrustedSigners = &types.TrustedSigners{Enabled: aws.Bool(true), Quantity: aws.Int32(1), Items: []string{"someone"}}
			return cfg
		}()}), Want: awstest.BadRequest("TrustedSignerDoesNotExist", "someone")},
		{Name: "quantity that does not match", Call: awstest.Fails(c.CreateDistribution, &cloudfront.CreateDistributionInput{DistributionConfig: func() *types.DistributionConfig {
			cfg := config("bad-quantity")
			cfg.DefaultCacheBehavior.TrustedSigners = &types.TrustedSigners{Enabled: aws.Bool(true), Quantity: aws.Int32(2), Items: []string{"self"}}
			return cfg
		}()}), Want: awstest.BadRequest("InvalidArgument", "TrustedSigners")},
	})
}

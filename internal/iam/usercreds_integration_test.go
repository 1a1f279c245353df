package iam_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/md5"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/pem"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/google/go-cmp/cmp"

	"overcast/internal/awstest"
)

// ed25519Key is a new ed25519 public key in OpenSSH form, and its SSH wire
// form.
func ed25519Key(t *testing.T) (openSSH string, wire []byte) {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range [][]byte{[]byte("ssh-ed25519"), pub} {
		wire = binary.BigEndian.AppendUint32(wire, uint32(len(s)))
		wire = append(wire, s...)
	}
	return "ssh-ed25519 " + base64.StdEncoding.EncodeToString(wire) + " dave@laptop", wire
}

// pemKey is key's PKIX PEM form.
func pemKey(t *testing.T, key any) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

func TestSSHPublicKeys(t *testing.T) {
	c, _ := start(t)
	awstest.Call(t, c.CreateUser, &iam.CreateUserInput{UserName: aws.String("dave")})
	openSSH, wire := ed25519Key(t)
	up := awstest.Call(t, c.UploadSSHPublicKey, &iam.UploadSSHPublicKeyInput{UserName: aws.String("dave"), SSHPublicKeyBody: &openSSH}).SSHPublicKey
	sum := md5.Sum(wire)
	var fp []string
	for _, b := range sum {
		fp = append(fp, fmt.Sprintf("%02x", b))
	}
	if !strings.HasPrefix(*up.SSHPublicKeyId, "APKA") || len(*up.SSHPublicKeyId) != 21 || *up.Fingerprint != strings.Join(fp, ":") ||
		up.Status != types.StatusTypeActive || *up.SSHPublicKeyBody != strings.TrimSuffix(openSSH, " dave@laptop") {
		t.Errorf("UploadSSHPublicKey = %s %s %s %q, want an APKA ID, the MD5 fingerprint, Active and the key", *up.SSHPublicKeyId,
			*up.Fingerprint, up.Status, *up.SSHPublicKeyBody)
	}

	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rsaPEM := pemKey(t, &rsaKey.PublicKey)
	rsaUp := awstest.Call(t, c.UploadSSHPublicKey, &iam.UploadSSHPublicKeyInput{UserName: aws.String("dave"), SSHPublicKeyBody: &rsaPEM}).SSHPublicKey
	if !strings.HasPrefix(*rsaUp.SSHPublicKeyBody, "ssh-rsa AAAA") {
		t.Errorf("a PEM RSA key's SSH form = %q, want ssh-rsa", *rsaUp.SSHPublicKeyBody)
	}
	got := awstest.Call(t, c.GetSSHPublicKey, &iam.GetSSHPublicKeyInput{UserName: aws.String("dave"), SSHPublicKeyId: rsaUp.SSHPublicKeyId,
		Encoding: types.EncodingTypePem}).SSHPublicKey
	if *got.SSHPublicKeyBody != rsaPEM {
		t.Errorf("GetSSHPublicKey PEM = %q, want the uploaded %q", *got.SSHPublicKeyBody, rsaPEM)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecUp := awstest.Call(t, c.UploadSSHPublicKey, &iam.UploadSSHPublicKeyInput{UserName: aws.String("dave"),
		SSHPublicKeyBody: aws.String(pemKey(t, &ecKey.PublicKey))}).SSHPublicKey
	if !strings.HasPrefix(*ecUp.SSHPublicKeyBody, "ecdsa-sha2-nistp256 AAAA") {
		t.Errorf("a PEM P-256 key's SSH form = %q, want ecdsa-sha2-nistp256", *ecUp.SSHPublicKeyBody)
	}

	awstest.Call(t, c.UpdateSSHPublicKey, &iam.UpdateSSHPublicKeyInput{UserName: aws.String("dave"), SSHPublicKeyId: up.SSHPublicKeyId,
		Status: types.StatusTypeInactive})
	list := awstest.Call(t, c.ListSSHPublicKeys, &iam.ListSSHPublicKeysInput{UserName: aws.String("dave")}).SSHPublicKeys
	gotList := map[string]types.StatusType{}
	for _, k := range list {
		gotList[*k.SSHPublicKeyId] = k.Status
	}
	want := map[string]types.StatusType{*up.SSHPublicKeyId: types.StatusTypeInactive, *rsaUp.SSHPublicKeyId: types.StatusTypeActive,
		*ecUp.SSHPublicKeyId: types.StatusTypeActive}
	if diff := cmp.Diff(want, gotList); diff != "" {
		t.Errorf("ListSSHPublicKeys (-want +got):\n%s", diff)
	}

	_, err = c.DeleteUser(t.Context(), &iam.DeleteUserInput{UserName: aws.String("dave")})
	awstest.WantAPIError(t, err, awstest.Conflict("DeleteConflict", "Cannot delete entity, must delete SSH public keys first."))
	for _, id := range []*string{up.SSHPublicKeyId, rsaUp.SSHPublicKeyId, ecUp.SSHPublicKeyId} {
		awstest.Call(t, c.DeleteSSHPublicKey, &iam.DeleteSSHPublicKeyInput{UserName: aws.String("dave"), SSHPublicKeyId: id})
	}
	awstest.Call(t, c.DeleteUser, &iam.DeleteUserInput{UserName: aws.String("dave")})
}

func TestServiceSpecificCredentials(t *testing.T) {
	c, _ := start(t)
	awstest.Call(t, c.CreateUser, &iam.CreateUserInput{UserName: aws.String("bob")})
	created := awstest.Call(t, c.CreateServiceSpecificCredential, &iam.CreateServiceSpecificCredentialInput{UserName: aws.String("bob"),
		ServiceName: aws.String("codecommit.amazonaws.com")}).ServiceSpecificCredential
	if *created.ServiceUserName != "bob-at-000000000000" || len(*created.ServicePassword) < 40 || created.Status != types.StatusTypeActive ||
		!strings.HasPrefix(*created.ServiceSpecificCredentialId, "ACCA") {
		t.Errorf("CreateServiceSpecificCredential = %s %q %s %s, want bob-at-000000000000, a long password, Active, an ACCA ID",
			*created.ServiceUserName, *created.ServicePassword, created.Status, *created.ServiceSpecificCredentialId)
	}
	reset := awstest.Call(t, c.ResetServiceSpecificCredential, &iam.ResetServiceSpecificCredentialInput{UserName: aws.String("bob"),
		ServiceSpecificCredentialId: created.ServiceSpecificCredentialId}).ServiceSpecificCredential
	if *reset.ServicePassword == *created.ServicePassword {
		t.Errorf("ResetServiceSpecificCredential kept the password")
	}
	awstest.Call(t, c.UpdateServiceSpecificCredential, &iam.UpdateServiceSpecificCredentialInput{UserName: aws.String("bob"),
		ServiceSpecificCredentialId: created.ServiceSpecificCredentialId, Status: types.StatusTypeInactive})
	list := awstest.Call(t, c.ListServiceSpecificCredentials, &iam.ListServiceSpecificCredentialsInput{UserName: aws.String("bob")}).ServiceSpecificCredentials
	if len(list) != 1 || list[0].Status != types.StatusTypeInactive || *list[0].ServiceUserName != "bob-at-000000000000" {
		t.Errorf("ListServiceSpecificCredentials = %+v, want the one inactive credential", list)
	}

	_, err := c.DeleteUser(t.Context(), &iam.DeleteUserInput{UserName: aws.String("bob")})
	awstest.WantAPIError(t, err, awstest.Conflict("DeleteConflict", "must delete service-specific credentials first"))
	awstest.Call(t, c.DeleteServiceSpecificCredential, &iam.DeleteServiceSpecificCredentialInput{UserName: aws.String("bob"),
		ServiceSpecificCredentialId: created.ServiceSpecificCredentialId})
	awstest.Call(t, c.DeleteUser, &iam.DeleteUserInput{UserName: aws.String("bob")})
}

func TestUserCredentialErrors(t *testing.T) {
	c, _ := start(t)
	awstest.Call(t, c.CreateUser, &iam.CreateUserInput{UserName: aws.String("dave")})
	var first string
	for i := range 5 {
		key, _ := ed25519Key(t)
		awstest.Call(t, c.UploadSSHPublicKey, &iam.UploadSSHPublicKeyInput{UserName: aws.String("dave"), SSHPublicKeyBody: &key})
		if i == 0 {
			first = key
		}
	}
	sixth, _ := ed25519Key(t)
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		awstest.Call(t, c.CreateServiceSpecificCredential, &iam.CreateServiceSpecificCredentialInput{UserName: aws.String("dave"),
			ServiceName: aws.String("codecommit.amazonaws.com")})
	}
	awstest.RunErrorCases(t, []awstest.ErrorCase{
		{Name: "UploadSSHPublicKey: duplicate", Call: awstest.Fails(c.UploadSSHPublicKey, &iam.UploadSSHPublicKeyInput{UserName: aws.String("dave"),
			SSHPublicKeyBody: &first}), Want: awstest.BadRequest("DuplicateSSHPublicKey", "already associated")},
		{Name: "UploadSSHPublicKey: sixth key", Call: awstest.Fails(c.UploadSSHPublicKey, &iam.UploadSSHPublicKeyInput{UserName: aws.String("dave"),
			SSHPublicKeyBody: &sixth}), Want: awstest.Conflict("LimitExceeded", "Cannot exceed quota for SSHPublicKeysPerUser: 5")},
		{Name: "UploadSSHPublicKey: not a key", Call: awstest.Fails(c.UploadSSHPublicKey, &iam.UploadSSHPublicKeyInput{UserName: aws.String("dave"),
			SSHPublicKeyBody: aws.String("hello")}), Want: awstest.BadRequest("UnrecognizedPublicKeyEncoding", "")},
		{Name: "UploadSSHPublicKey: RSA under 2048 bits", Call: awstest.Fails(c.UploadSSHPublicKey, &iam.UploadSSHPublicKeyInput{
			UserName: aws.String("dave"), SSHPublicKeyBody: aws.String(pemKey(t, &small.PublicKey))}), Want: awstest.BadRequest("InvalidPublicKey", "")},
		{Name: "UploadSSHPublicKey: corrupt key", Call: awstest.Fails(c.UploadSSHPublicKey, &iam.UploadSSHPublicKeyInput{UserName: aws.String("dave"),
			SSHPublicKeyBody: aws.String("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA==")}), Want: awstest.BadRequest("InvalidPublicKey", "")},
		{Name: "UploadSSHPublicKey: no such user", Call: awstest.Fails(c.UploadSSHPublicKey, &iam.UploadSSHPublicKeyInput{UserName: aws.String("nobody"),
			SSHPublicKeyBody: &sixth}), Want: awstest.NotFound("NoSuchEntity", "The user with name nobody cannot be found.")},
		{Name: "GetSSHPublicKey: no such key", Call: awstest.Fails(c.GetSSHPublicKey, &iam.GetSSHPublicKeyInput{UserName: aws.String("dave"),
			SSHPublicKeyId: aws.String("APKAEXAMPLEEXAMPLE12"), Encoding: types.EncodingTypeSsh}),
			Want: awstest.NotFound("NoSuchEntity", "The Public Key with id APKAEXAMPLEEXAMPLE12 cannot be found.")},
		{Name: "CreateServiceSpecificCredential: third for the service", Call: awstest.Fails(c.CreateServiceSpecificCredential,
			&iam.CreateServiceSpecificCredentialInput{UserName: aws.String("dave"), ServiceName: aws.String("codecommit.amazonaws.com")}),
			Want: awstest.Conflict("LimitExceeded", "Cannot exceed quota for ServiceSpecificCredentialsPerUserPerService: 2")},
		{Name: "CreateServiceSpecificCredential: unsupported service", Call: awstest.Fails(c.CreateServiceSpecificCredential,
			&iam.CreateServiceSpecificCredentialInput{UserName: aws.String("dave"), ServiceName: aws.String("s3.amazonaws.com")}),
			Want: awstest.NotFound("NotSupportedService", "s3.amazonaws.com")},
		{Name: "ResetServiceSpecificCredential: no such credential", Call: awstest.Fails(c.ResetServiceSpecificCredential,
			&iam.ResetServiceSpecificCredentialInput{UserName: aws.String("dave"), ServiceSpecificCredentialId: aws.String("ACCAEXAMPLEEXAMPLE123")}),
			Want: awstest.NotFound("NoSuchEntity", "ACCAEXAMPLEEXAMPLE123")},
	})
}

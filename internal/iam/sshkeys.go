package iam

import (
	"bytes"
	"context"
	"errors"

	"overcast"
	api "overcast/internal/api/iam"
)

// maxSSHKeysPerUser is IAM's quota SSHPublicKeysPerUser.
const maxSSHKeysPerUser = 5

const sshKeyIDPrefix = "APKA"

type sshKeyRec struct {
	ownedRec
	Wire []byte `json:"wire"` // the key in SSH wire form
}

var sshKeys = userCredKind[sshKeyRec, *sshKeyRec]{
	table: sshKeysTable,
	ids:   func(u *userRec) *[]string { return &u.SSHKeys },
	notFound: func(id string) error {
		return api.NewNoSuchEntityException("The Public Key with id %s cannot be found.", id)
	},
}

// UploadSSHPublicKey adds an SSH public key to a user, for CodeCommit.
func (s *Service) UploadSSHPublicKey(ctx context.Context, in *api.UploadSSHPublicKeyRequest) (*api.UploadSSHPublicKeyResponse, error) {
	wire, err := parseSSHPublicKey(*in.SSHPublicKeyBody)
	switch {
	case errors.Is(err, errUnrecognizedKeyEncoding):
		return nil, api.NewUnrecognizedPublicKeyEncodingException("The public key encoding format is unsupported or unrecognized.")
	case err != nil:
		return nil, api.NewInvalidPublicKeyException("The public key is invalid. Keys must be ssh-rsa of at least %d bits, ecdsa or ed25519.", minRSABits)
	}
	acct := accountOf(ctx)
	k := sshKeyRec{ownedRec: ownedRec{ID: sshKeyIDPrefix + s.IDs.String(upperAlnum, 17), Account: acct, UserName: *in.UserName,
		Status: api.StatusTypeActive, Created: s.clock()}, Wire: wire}
	err = sshKeys.create(ctx, s, k, func(others []sshKeyRec) error {
		for _, o := range others {
			if bytes.Equal(o.Wire, wire) {
				return api.NewDuplicateSSHPublicKeyException("The SSH public key is already associated with the specified IAM user.")
			}
		}
		if len(others) >= maxSSHKeysPerUser {
			return quotaExceeded("SSHPublicKeysPerUser", maxSSHKeysPerUser)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	k, _, err = sshKeys.lookup(ctx, s, k.ID)
	if err != nil {
		return nil, err
	}
	out, err := sshKeyOut(k, api.EncodingTypeSSH)
	return &api.UploadSSHPublicKeyResponse{SSHPublicKey: out}, err
}

func sshKeyOut(k sshKeyRec, encoding string) (*api.SSHPublicKey, error) {
	body := openSSHForm(k.Wire)
	if encoding == api.EncodingTypePEM {
		var err error
		if body, err = pemForm(k.Wire); err != nil {
			return nil, err
		}
	}
	return &api.SSHPublicKey{UserName: new(k.UserName), SSHPublicKeyId: new(k.ID), Fingerprint: new(sshFingerprint(k.Wire)),
		SSHPublicKeyBody: new(body), Status: new(k.Status), UploadDate: new(k.Created)}, nil
}

func (s *Service) GetSSHPublicKey(ctx context.Context, in *api.GetSSHPublicKeyRequest) (*api.GetSSHPublicKeyResponse, error) {
	k, err := sshKeys.get(ctx, s, *in.UserName, *in.SSHPublicKeyId)
	if err != nil {
		return nil, err
	}
	out, err := sshKeyOut(k, *in.Encoding)
	return &api.GetSSHPublicKeyResponse{SSHPublicKey: out}, err
}

func (s *Service) ListSSHPublicKeys(ctx context.Context, in *api.ListSSHPublicKeysRequest) (*api.ListSSHPublicKeysResponse, error) {
	user, err := s.credentialUser(ctx, in.UserName)
	if err != nil {
		return nil, err
	}
	pg, err := newPage(in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	all, err := sshKeys.list(ctx, s, user)
	if err != nil {
		return nil, err
	}
	page, next := pageSlice(all, func(k sshKeyRec) string { return k.ID }, pg)
	out := &api.ListSSHPublicKeysResponse{SSHPublicKeys: api.SSHPublicKeyListType{}}
	for _, k := range page {
		out.SSHPublicKeys = append(out.SSHPublicKeys, api.SSHPublicKeyMetadata{UserName: new(k.UserName),
			SSHPublicKeyId: new(k.ID), Status: new(k.Status), UploadDate: new(k.Created)})
	}
	out.IsTruncated, out.Marker = truncated(next)
	return out, nil
}

func (s *Service) UpdateSSHPublicKey(ctx context.Context, in *api.UpdateSSHPublicKeyRequest) error {
	return sshKeys.setStatus(ctx, s, *in.UserName, *in.SSHPublicKeyId, *in.Status)
}

func (s *Service) DeleteSSHPublicKey(ctx context.Context, in *api.DeleteSSHPublicKeyRequest) error {
	return sshKeys.remove(ctx, s, *in.UserName, *in.SSHPublicKeyId)
}

// credentialUser is the user a List operation of a user's credentials
// means: the one named, else the calling user.
func (s *Service) credentialUser(ctx context.Context, userName *string) (string, error) {
	if userName != nil && *userName != "" {
		return *userName, nil
	}
	name, root, err := callerUser(ctx)
	if err != nil {
		return "", err
	}
	if root {
		return "", validationError("Must specify userName when calling with non-User credentials")
	}
	return name, nil
}

// SSHPublicKey is an uploaded key as CodeCommit's SSH server checks it.
type SSHPublicKey struct {
	Caller overcast.Caller // the user it belongs to
	Wire   []byte          // SSH wire form
	Active bool
}

// LookupSSHPublicKey finds an SSH public key by ID, in any account (the
// SSH user names the key, not the account); found is false for none.
func (s *Service) LookupSSHPublicKey(ctx context.Context, keyID string) (k SSHPublicKey, found bool, err error) {
	rec, found, err := sshKeys.lookup(ctx, s, keyID)
	if err != nil || !found {
		return k, found, err
	}
	caller, err := s.userCaller(ctx, rec.Account, rec.UserName)
	if err != nil {
		return k, false, err
	}
	return SSHPublicKey{Caller: caller, Wire: rec.Wire, Active: rec.Status == api.StatusTypeActive}, true, nil
}

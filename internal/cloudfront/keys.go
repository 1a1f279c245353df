package cloudfront

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"slices"
	"strings"

	"overcast"
	api "overcast/internal/api/cloudfront"
	"overcast/internal/cloudfront/edge"
	"overcast/internal/cloudfront/signed"
	"overcast/internal/store"
)

// Public keys and key groups: the keys signed URLs and cookies are checked
// against, grouped as a behaviour trusts them.

type publicKeyRecord = record[api.PublicKeyConfig]
type keyGroupRecord = record[api.KeyGroupConfig]

// checkPublicKey accepts what CloudFront does: a PEM public key, RSA of
// 2048 bits or ECDSA on P-256.
func checkPublicKey(_ *Service, _ store.Tx, _ string, c *api.PublicKeyConfig) error {
	invalid := api.NewInvalidArgument("The parameter EncodedKey is invalid: it must be a PEM-encoded RSA 2048-bit or ECDSA P-256 public key.")
	block, _ := pem.Decode([]byte(strOr(c.EncodedKey, "")))
	if block == nil {
		return invalid
	}
	key, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil || signed.Supported(key) != nil {
		return invalid
	}
	return nil
}

// publicKeyChange refuses changing a public key's key or caller
// reference: only its name and comment may change.
func publicKeyChange(old, new *api.PublicKeyConfig) error {
	if strOr(old.EncodedKey, "") != strOr(new.EncodedKey, "") || strOr(old.CallerReference, "") != strOr(new.CallerReference, "") {
		return api.NewCannotChangeImmutablePublicKeyFields("You can't change the EncodedKey or CallerReference of a public key.")
	}
	return nil
}

// keyGroupsUsing reports whether a key group holds the public key id.
func keyGroupsUsing(s *Service, tx store.Tx, account, id string) (bool, error) {
	using, err := s.keyGroups.all(tx, account, func(g *keyGroupRecord) bool { return slices.Contains(g.Config.Items, id) })
	return len(using) > 0, err
}

// maxKeysInGroup is CloudFront's quota of public keys in a key group.
const maxKeysInGroup = 5

func checkKeyGroup(s *Service, tx store.Tx, account string, c *api.KeyGroupConfig) error {
	if len(c.Items) > maxKeysInGroup {
		return api.NewTooManyPublicKeysInKeyGroup("A key group can hold at most %d public keys.", maxKeysInGroup)
	}
	for _, id := range c.Items {
		if _, _, err := s.publicKeys.get(tx, account, id); err != nil {
			return err
		}
	}
	return nil
}

// keyGroupKeys are the public keys of the key group id, for a behaviour
// that trusts it.
func (s *Service) keyGroupKeys(tx store.Tx, account, id string) ([]edge.PublicKey, error) {
	g, _, err := s.keyGroups.get(tx, account, id)
	var missing *api.NoSuchResource
	if errors.As(err, &missing) {
		return nil, api.NewTrustedKeyGroupDoesNotExist("The specified key group does not exist: %s", id)
	}
	if err != nil {
		return nil, err
	}
	keys := make([]edge.PublicKey, 0, len(g.Config.Items))
	for _, kid := range g.Config.Items {
		k, _, err := s.publicKeys.get(tx, account, kid)
		if err != nil {
			return nil, err
		}
		keys = append(keys, edge.PublicKey{ID: kid, PEM: *k.Config.EncodedKey})
	}
	return keys, nil
}

func publicKeyOut(r *publicKeyRecord) *api.PublicKey {
	return &api.PublicKey{Id: &r.ID, CreatedTime: new(r.Created), PublicKeyConfig: r.Config}
}

func (s *Service) CreatePublicKey(ctx context.Context, in *api.CreatePublicKeyRequest) (*api.CreatePublicKeyResult, error) {
	out, err := answer(got(s.publicKeys.add(ctx, s, s.newID("K"), in.PublicKeyConfig)), func(r *publicKeyRecord, tag *string) *api.CreatePublicKeyResult {
		return &api.CreatePublicKeyResult{PublicKey: publicKeyOut(r), ETag: tag, Location: s.location("public-key", r.ID)}
	})
	if err == nil {
		s.redeployKeyUsers(ctx)
	}
	return out, err
}

// redeployKeyUsers has the edge take up the caller's account's public keys
// anew where a distribution trusts them: as a trusted signer's key pairs
// (of any distribution that trusts the account), or in a key group.
// Controllers' resyncs catch up on a distribution it could not read.
func (s *Service) redeployKeyUsers(ctx context.Context) {
	keyAccount := overcast.ScopeOf(ctx).Account
	err := s.Store.View(ctx, func(tx store.Tx) error {
		return store.ScanJSON(tx, s.distributions.table, store.ScanOptions{}, func(key string, d distributionRecord, _ int64) error {
			account, _, _ := strings.Cut(key, "/")
			trusts := account == keyAccount && len(trustedKeyGroupIDs(d.Config)) > 0
			for _, signer := range trustedSignerAccounts(d.Config) {
				trusts = trusts || signer == keyAccount || (signer == "self" && account == keyAccount)
			}
			if trusts {
				s.deployments.Enqueue(key)
			}
			return nil
		})
	})
	if err != nil {
		s.Logger.Warn("cloudfront: redeploying the distributions trusting changed keys", "account", keyAccount, "err", err)
	}
}

func (s *Service) GetPublicKey(ctx context.Context, in *api.GetPublicKeyRequest) (*api.GetPublicKeyResult, error) {
	return answer(got(s.publicKeys.read(ctx, s.Store, *in.Id)), func(r *publicKeyRecord, tag *string) *api.GetPublicKeyResult {
		return &api.GetPublicKeyResult{PublicKey: publicKeyOut(r), ETag: tag}
	})
}

func (s *Service) GetPublicKeyConfig(ctx context.Context, in *api.GetPublicKeyConfigRequest) (*api.GetPublicKeyConfigResult, error) {
	return answer(got(s.publicKeys.read(ctx, s.Store, *in.Id)), func(r *publicKeyRecord, tag *string) *api.GetPublicKeyConfigResult {
		return &api.GetPublicKeyConfigResult{PublicKeyConfig: r.Config, ETag: tag}
	})
}

func (s *Service) UpdatePublicKey(ctx context.Context, in *api.UpdatePublicKeyRequest) (*api.UpdatePublicKeyResult, error) {
	return answer(got(s.publicKeys.replace(ctx, s, *in.Id, in.IfMatch, in.PublicKeyConfig)), func(r *publicKeyRecord, tag *string) *api.UpdatePublicKeyResult {
		return &api.UpdatePublicKeyResult{PublicKey: publicKeyOut(r), ETag: tag}
	})
}

func (s *Service) DeletePublicKey(ctx context.Context, in *api.DeletePublicKeyRequest) error {
	err := s.publicKeys.drop(ctx, s, *in.Id, in.IfMatch)
	if err == nil {
		s.redeployKeyUsers(ctx)
	}
	return err
}

func (s *Service) ListPublicKeys(ctx context.Context, in *api.ListPublicKeysRequest) (*api.ListPublicKeysResult, error) {
	p, err := s.publicKeys.listed(ctx, s, nil, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	return &api.ListPublicKeysResult{PublicKeyList: &api.PublicKeyList{NextMarker: p.NextMarker, MaxItems: p.MaxItems, Quantity: p.Quantity,
		Items: summaries(p, func(r stored[publicKeyRecord]) api.PublicKeySummary {
			c := r.Value.Config
			return api.PublicKeySummary{Id: &r.Value.ID, Name: c.Name, CreatedTime: new(r.Value.Created), EncodedKey: c.EncodedKey, Comment: c.Comment}
		}),
	}}, nil
}

func keyGroupOut(r *keyGroupRecord) *api.KeyGroup {
	return &api.KeyGroup{Id: &r.ID, LastModifiedTime: new(r.Modified), KeyGroupConfig: r.Config}
}

func (s *Service) CreateKeyGroup(ctx context.Context, in *api.CreateKeyGroupRequest) (*api.CreateKeyGroupResult, error) {
	return answer(got(s.keyGroups.add(ctx, s, s.IDs.UUID(), in.KeyGroupConfig)), func(r *keyGroupRecord, tag *string) *api.CreateKeyGroupResult {
		return &api.CreateKeyGroupResult{KeyGroup: keyGroupOut(r), ETag: tag, Location: s.location("key-group", r.ID)}
	})
}

func (s *Service) GetKeyGroup(ctx context.Context, in *api.GetKeyGroupRequest) (*api.GetKeyGroupResult, error) {
	return answer(got(s.keyGroups.read(ctx, s.Store, *in.Id)), func(r *keyGroupRecord, tag *string) *api.GetKeyGroupResult {
		return &api.GetKeyGroupResult{KeyGroup: keyGroupOut(r), ETag: tag}
	})
}

func (s *Service) GetKeyGroupConfig(ctx context.Context, in *api.GetKeyGroupConfigRequest) (*api.GetKeyGroupConfigResult, error) {
	return answer(got(s.keyGroups.read(ctx, s.Store, *in.Id)), func(r *keyGroupRecord, tag *string) *api.GetKeyGroupConfigResult {
		return &api.GetKeyGroupConfigResult{KeyGroupConfig: r.Config, ETag: tag}
	})
}

func (s *Service) UpdateKeyGroup(ctx context.Context, in *api.UpdateKeyGroupRequest) (*api.UpdateKeyGroupResult, error) {
	out, err := answer(got(s.keyGroups.replace(ctx, s, *in.Id, in.IfMatch, in.KeyGroupConfig)), func(r *keyGroupRecord, tag *string) *api.UpdateKeyGroupResult {
		return &api.UpdateKeyGroupResult{KeyGroup: keyGroupOut(r), ETag: tag}
	})
	if err == nil {
		s.redeployKeyUsers(ctx)
	}
	return out, err
}

func (s *Service) DeleteKeyGroup(ctx context.Context, in *api.DeleteKeyGroupRequest) error {
	return s.keyGroups.drop(ctx, s, *in.Id, in.IfMatch)
}

func (s *Service) ListKeyGroups(ctx context.Context, in *api.ListKeyGroupsRequest) (*api.ListKeyGroupsResult, error) {
	p, err := s.keyGroups.listed(ctx, s, nil, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	return &api.ListKeyGroupsResult{KeyGroupList: &api.KeyGroupList{NextMarker: p.NextMarker, MaxItems: p.MaxItems, Quantity: p.Quantity,
		Items: summaries(p, func(r stored[keyGroupRecord]) api.KeyGroupSummary {
			return api.KeyGroupSummary{KeyGroup: keyGroupOut(r.Value)}
		}),
	}}, nil
}

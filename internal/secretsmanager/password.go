package secretsmanager

import (
	"context"
	"crypto/rand"
	"math/big"
	"strings"

	api "overcast/internal/api/secretsmanager"
)

// The character classes of GetRandomPassword; punctuation is the set AWS
// documents.
const (
	lowercase   = "abcdefghijklmnopqrstuvwxyz"
	uppercase   = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	digits      = "0123456789"
	punctuation = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
)

// GetRandomPassword generates a password from crypto/rand.
func (s *Service) GetRandomPassword(ctx context.Context, in *api.GetRandomPasswordRequest) (*api.GetRandomPasswordResponse, error) {
	length := int64(32)
	if in.PasswordLength != nil {
		length = *in.PasswordLength
	}
	is := func(b *bool) bool { return b != nil && *b }
	exclude := ""
	if in.ExcludeCharacters != nil {
		exclude = *in.ExcludeCharacters
	}
	keep := func(set string) string {
		return strings.Map(func(r rune) rune {
			if strings.ContainsRune(exclude, r) {
				return -1
			}
			return r
		}, set)
	}
	var required []string // classes the password must draw from at least once
	for _, c := range []struct {
		set      string
		excluded bool
	}{
		{lowercase, is(in.ExcludeLowercase)},
		{uppercase, is(in.ExcludeUppercase)},
		{digits, is(in.ExcludeNumbers)},
		{punctuation, is(in.ExcludePunctuation)},
	} {
		if set := keep(c.set); !c.excluded && set != "" {
			required = append(required, set)
		}
	}
	all := strings.Join(required, "")
	if is(in.IncludeSpace) && !strings.Contains(exclude, " ") {
		all += " "
	}
	if all == "" {
		return nil, api.NewInvalidParameterException("The password can't be generated because every character type is excluded.")
	}
	requireEach := in.RequireEachIncludedType == nil || *in.RequireEachIncludedType
	if !requireEach {
		required = nil
	}
	if int64(len(required)) > length {
		return nil, api.NewInvalidParameterException("Password length is too short based on the required types.")
	}
	pw := make([]byte, 0, length)
	for _, set := range required {
		pw = append(pw, set[randIntn(len(set))])
	}
	for int64(len(pw)) < length {
		pw = append(pw, all[randIntn(len(all))])
	}
	// The required characters went first; shuffle them into place.
	for i := len(pw) - 1; i > 0; i-- {
		j := randIntn(i + 1)
		pw[i], pw[j] = pw[j], pw[i]
	}
	return &api.GetRandomPasswordResponse{RandomPassword: new(string(pw))}, nil
}

func randIntn(n int) int {
	i, err := rand.Int(rand.Reader, big.NewInt(int64(n)))
	if err != nil {
		panic(err) // crypto/rand does not fail
	}
	return int(i.Int64())
}

package secretsmanager

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"overcast"
	api "overcast/internal/api/secretsmanager"
	"overcast/internal/awsproto"
	"overcast/internal/store"
)

// matchFilters applies ListSecrets filters: filters AND together, the values
// of one filter OR together, and a value starting with "!" excludes.
func matchFilters(sec *secret, region string, filters api.FiltersListType) bool {
	for _, f := range filters {
		if !matchFilter(sec, region, *f.Key, f.Values) {
			return false
		}
	}
	return true
}

func matchFilter(sec *secret, region, key string, values []string) bool {
	positive, matched := false, false
	for _, val := range values {
		neg := strings.HasPrefix(val, "!")
		val = strings.TrimPrefix(val, "!")
		hit := matchKey(sec, region, key, val)
		if neg && hit {
			return false
		}
		if !neg {
			positive = true
			matched = matched || hit
		}
	}
	return !positive || matched
}

// matchKey applies one filter value: prefix matches, case-sensitive except
// for description and all.
func matchKey(sec *secret, region, key, val string) bool {
	switch key {
	case api.FilterNameStringTypeName:
		return strings.HasPrefix(sec.Name, val)
	case api.FilterNameStringTypeDescription:
		return strings.HasPrefix(strings.ToLower(sec.Description), strings.ToLower(val))
	case api.FilterNameStringTypeTagKey:
		return slices.ContainsFunc(sec.Tags, func(t tag) bool { return strings.HasPrefix(t.Key, val) })
	case api.FilterNameStringTypeTagValue:
		return slices.ContainsFunc(sec.Tags, func(t tag) bool { return strings.HasPrefix(t.Value, val) })
	case api.FilterNameStringTypePrimaryRegion:
		// Secrets here are never replicated, so none has a primary region
		// of another; AWS reports PrimaryRegion only for replicated ones.
		return false
	case api.FilterNameStringTypeOwningService:
		return false
	case api.FilterNameStringTypeAll:
		return matchAllWords(sec, val)
	}
	return false
}

// matchAllWords is the "all" filter: every word of the value must prefix a
// word of the name, description, a tag key or a tag value, ignoring case.
func matchAllWords(sec *secret, val string) bool {
	var words []string
	add := func(s string) {
		words = append(words, strings.FieldsFunc(strings.ToLower(s), isWordBreak)...)
		words = append(words, strings.ToLower(s))
	}
	add(sec.Name)
	add(sec.Description)
	for _, t := range sec.Tags {
		add(t.Key)
		add(t.Value)
	}
	for _, want := range strings.FieldsFunc(strings.ToLower(val), isWordBreak) {
		if !slices.ContainsFunc(words, func(w string) bool { return strings.HasPrefix(w, want) }) {
			return false
		}
	}
	return true
}

func isWordBreak(r rune) bool { return strings.ContainsRune(" /_+=.@-:", r) }

// listQuery is a ListSecrets (or filtered BatchGetSecretValue) request.
type listQuery struct {
	filters         api.FiltersListType
	includeDeletion bool
	sortBy          string
	asc             bool
	limit           int
	token           *string
}

// listToken is where the next page starts: after the item with this sort
// value and name.
type listToken struct {
	Sort string `json:"s"`
	Name string `json:"n"`
}

func sortValue(sec *secret, by string) string {
	stamp := func(t time.Time) string { return t.UTC().Format("20060102T150405.000000000Z") }
	switch by {
	case api.SortByTypeName:
		return sec.Name
	case api.SortByTypeLastChangedDate:
		return stamp(sec.Changed)
	case api.SortByTypeLastAccessedDate:
		if sec.Accessed == nil {
			return ""
		}
		return stamp(*sec.Accessed)
	}
	return stamp(sec.Created)
}

// list returns a page of the scope's secrets that pass the query's filters,
// in its order, and the token of the next page.
func (s *Service) list(ctx context.Context, sc scope, q listQuery) ([]secret, *string, error) {
	var after *listToken
	if q.token != nil && *q.token != "" {
		b, err := base64.RawURLEncoding.DecodeString(*q.token)
		after = &listToken{}
		if err != nil || json.Unmarshal(b, after) != nil {
			return nil, nil, api.NewInvalidNextTokenException("The NextToken value is invalid.")
		}
	}
	now := s.Now()
	var all []secret
	err := s.Store.View(ctx, func(tx store.Tx) error {
		all = all[:0]
		return store.ScanJSON(tx, secretsTable, store.ScanOptions{Prefix: sc.Prefix()}, func(_ string, sec secret, _ int64) error {
			if sec.expired(now) || (sec.scheduled() && !q.includeDeletion) || !matchFilters(&sec, sc.Region, q.filters) {
				return nil
			}
			all = append(all, sec)
			return nil
		})
	})
	if err != nil {
		return nil, nil, err
	}
	compare := func(a, b listToken) int {
		c := cmp.Or(cmp.Compare(a.Sort, b.Sort), cmp.Compare(a.Name, b.Name))
		if !q.asc {
			c = -c
		}
		return c
	}
	tokenOf := func(sec *secret) listToken { return listToken{Sort: sortValue(sec, q.sortBy), Name: sec.Name} }
	slices.SortFunc(all, func(a, b secret) int { return compare(tokenOf(&a), tokenOf(&b)) })
	start := 0
	if after != nil {
		start, _ = slices.BinarySearchFunc(all, *after, func(sec secret, t listToken) int { return compare(tokenOf(&sec), t) })
		if start < len(all) && compare(tokenOf(&all[start]), *after) == 0 {
			start++
		}
	}
	end := min(start+q.limit, len(all))
	var next *string
	if end < len(all) {
		b, _ := json.Marshal(tokenOf(&all[end-1]))
		next = new(base64.RawURLEncoding.EncodeToString(b))
	}
	return all[start:end], next, nil
}

func listEntry(sec *secret) api.SecretListEntry {
	e := api.SecretListEntry{
		ARN:                    new(sec.ARN),
		Name:                   new(sec.Name),
		LastChangedDate:        new(sec.Changed),
		LastAccessedDate:       sec.Accessed,
		DeletedDate:            sec.DeletionDate,
		SecretVersionsToStages: sec.stagesMap(),
		CreatedDate:            new(sec.Created),
	}
	if sec.Description != "" {
		e.Description = new(sec.Description)
	}
	if sec.KmsKeyID != "" {
		e.KmsKeyId = new(sec.KmsKeyID)
	}
	if len(sec.Tags) > 0 {
		e.Tags = sec.apiTags()
	}
	return e
}

// ListSecrets lists the secrets of the caller's account and region.
func (s *Service) ListSecrets(ctx context.Context, in *api.ListSecretsRequest) (*api.ListSecretsResponse, error) {
	sc := overcast.ScopeOf(ctx)
	limit := awsproto.PageSize(in.MaxResults, 100)
	sortBy := api.SortByTypeCreatedDate
	if in.SortBy != nil {
		sortBy = *in.SortBy
	}
	page, next, err := s.list(ctx, sc, listQuery{
		filters:         in.Filters,
		includeDeletion: in.IncludePlannedDeletion != nil && *in.IncludePlannedDeletion,
		sortBy:          sortBy,
		asc:             in.SortOrder == nil || *in.SortOrder == api.SortOrderTypeAsc,
		limit:           limit,
		token:           in.NextToken,
	})
	if err != nil {
		return nil, err
	}
	out := &api.ListSecretsResponse{SecretList: api.SecretListType{}, NextToken: next}
	for i := range page {
		out.SecretList = append(out.SecretList, listEntry(&page[i]))
	}
	return out, nil
}

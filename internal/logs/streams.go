package logs

import (
	"cmp"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	api "overcast/internal/api/logs"
	"overcast/internal/awsproto"
	"overcast/internal/store"
)

func loadStream(tx store.Tx, groupID uint64, name string) (stream, error) {
	var st stream
	_, err := store.GetJSON(tx, streamsTable, streamKey(groupID, name), &st)
	if errors.Is(err, store.ErrNotFound) {
		return st, errStreamNotFound()
	}
	return st, err
}

func putStream(tx store.Tx, groupID uint64, st *stream) error {
	_, err := store.PutJSON(tx, streamsTable, streamKey(groupID, st.Name), st, store.AnyVersion)
	return err
}

func (s *Service) newStream(tx store.Tx, groupID uint64, name string) (stream, error) {
	id, err := nextID(tx)
	if err != nil {
		return stream{}, err
	}
	st := stream{ID: id, Name: name, Created: s.nowMillis()}
	_, err = store.PutJSON(tx, streamsTable, streamKey(groupID, name), &st, 0)
	return st, err
}

// CreateLogStream implements api.Server.
func (s *Service) CreateLogStream(ctx context.Context, in *api.CreateLogStreamRequest) error {
	ref := groupFromName(ctx, *in.LogGroupName)
	name := *in.LogStreamName
	return s.update(ctx, func(tx store.Tx) error {
		g, _, err := loadGroup(tx, ref)
		if err != nil {
			return err
		}
		if _, err := tx.Get(streamsTable, streamKey(g.ID, name)); err == nil {
			return &awsproto.Error{Code: "ResourceAlreadyExistsException", Status: 400, Message: "The specified log stream already exists"}
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		_, err = s.newStream(tx, g.ID, name)
		return err
	})
}

// DeleteLogStream implements api.Server; the events go in the background.
func (s *Service) DeleteLogStream(ctx context.Context, in *api.DeleteLogStreamRequest) error {
	ref := groupFromName(ctx, *in.LogGroupName)
	name := *in.LogStreamName
	var tomb string
	err := s.update(ctx, func(tx store.Tx) error {
		g, _, err := loadGroup(tx, ref)
		if err != nil {
			return err
		}
		st, err := loadStream(tx, g.ID, name)
		if err != nil {
			return err
		}
		if err := tx.Delete(streamsTable, streamKey(g.ID, name), store.AnyVersion); err != nil {
			return err
		}
		if st.StoredBytes != 0 {
			g.StoredBytes = max(0, g.StoredBytes-st.StoredBytes)
			if err := putGroup(tx, &g); err != nil {
				return err
			}
		}
		tomb, err = addTombstone(tx, g.ID, st.ID)
		return err
	})
	if err == nil {
		s.reclaim.Enqueue(tomb)
	}
	return err
}

const describeStreamsMax = 50

// DescribeLogStreams implements api.Server: by name (a prefix scan of the
// group's stream records) or by last event time (all of them, sorted).
func (s *Service) DescribeLogStreams(ctx context.Context, in *api.DescribeLogStreamsRequest) (*api.DescribeLogStreamsResponse, error) {
	ref, err := resolveGroup(ctx, in.LogGroupName, in.LogGroupIdentifier)
	if err != nil {
		return nil, err
	}
	limit := awsproto.PageSize(in.Limit, describeStreamsMax)
	orderBy := "LogStreamName"
	if in.OrderBy != nil {
		orderBy = *in.OrderBy
	}
	byTime := orderBy == api.OrderByLastEventTime
	if byTime && in.LogStreamNamePrefix != nil {
		return nil, invalidParameter("Cannot order by LastEventTime with a logStreamNamePrefix.")
	}
	descending := in.Descending != nil && *in.Descending
	prefix := deref(in.LogStreamNamePrefix)

	out := &api.DescribeLogStreamsResponse{LogStreams: api.LogStreams{}}
	err = s.Store.View(ctx, func(tx store.Tx) error {
		g, _, err := loadGroup(tx, ref)
		if err != nil {
			return err
		}
		var page []stream
		var next *string
		if byTime {
			page, next, err = streamsByTime(tx, g.ID, in.NextToken, descending, limit)
		} else {
			page, next, err = streamsByName(tx, g.ID, prefix, in.NextToken, descending, limit)
		}
		if err != nil {
			return err
		}
		for i := range page {
			out.LogStreams = append(out.LogStreams, page[i].describe(&g))
		}
		out.NextToken = next
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func streamsByName(tx store.Tx, groupID uint64, prefix string, token *string, descending bool, limit int) ([]stream, *string, error) {
	opt, err := nameScan(streamPrefix(groupID), prefix, token)
	if err != nil {
		return nil, nil, err
	}
	opt.Reverse, opt.Limit = descending, limit+1
	var page []stream
	err = store.ScanJSON(tx, streamsTable, opt, func(_ string, st stream, _ int64) error {
		page = append(page, st)
		return nil
	})
	if err != nil || len(page) <= limit {
		return page, nil, err
	}
	page = page[:limit]
	return page, new(encodeNameToken(page[limit-1].Name)), nil
}

// streamsByTime sorts the whole group by last event time, then name; the
// token is the (time, name) of the last stream returned, so a stream that
// receives events between pages moves rather than repeats the page.
func streamsByTime(tx store.Tx, groupID uint64, token *string, descending bool, limit int) ([]stream, *string, error) {
	var all []stream
	err := store.ScanJSON(tx, streamsTable, store.ScanOptions{Prefix: streamPrefix(groupID)}, func(_ string, st stream, _ int64) error {
		all = append(all, st)
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	compare := func(a, b stream) int {
		return cmp.Or(cmp.Compare(a.LastEvent, b.LastEvent), strings.Compare(a.Name, b.Name))
	}
	slices.SortFunc(all, compare)
	if descending {
		slices.Reverse(all)
	}
	if token != nil {
		last, err := decodeTimeToken(*token)
		if err != nil {
			return nil, nil, err
		}
		i, _ := slices.BinarySearchFunc(all, last, func(a, b stream) int {
			if descending {
				return compare(b, a)
			}
			return compare(a, b)
		})
		// Skip the token's own stream, if it is still where it was.
		if i < len(all) && compare(all[i], last) == 0 {
			i++
		}
		all = all[i:]
	}
	if len(all) <= limit {
		return all, nil, nil
	}
	all = all[:limit]
	return all, new(encodeTimeToken(all[limit-1])), nil
}

func encodeTimeToken(st stream) string {
	return base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "t/%d/%s", st.LastEvent, st.Name))
}

func decodeTimeToken(tok string) (stream, error) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return stream{}, errBadToken()
	}
	rest, ok := strings.CutPrefix(string(b), "t/")
	ts, name, ok2 := strings.Cut(rest, "/")
	n, err := strconv.ParseInt(ts, 10, 64)
	if !ok || !ok2 || err != nil {
		return stream{}, errBadToken()
	}
	return stream{LastEvent: n, Name: name}, nil
}

func (st *stream) describe(g *group) api.LogStream {
	ls := api.LogStream{
		LogStreamName: new(st.Name),
		CreationTime:  new(st.Created),
		Arn:           new(groupRef{Account: g.Account, Region: g.Region, Name: g.Name}.streamARN(st.Name)),
		StoredBytes:   new(st.StoredBytes),
	}
	if st.HasEvents {
		ls.FirstEventTimestamp = new(st.FirstEvent)
		ls.LastEventTimestamp = new(st.LastEvent)
		ls.LastIngestionTime = new(st.LastIngestion)
		ls.UploadSequenceToken = new(sequenceToken(st.Seq))
	}
	return ls
}

// sequenceToken is what PutLogEvents used to demand and now ignores; it is
// still reported for clients that pass it along.
func sequenceToken(seq uint64) string { return fmt.Sprintf("%056d", seq) }

package iam

import (
	"context"
	"encoding/json"
)

// cacheChannel carries, between the processes sharing a store, the access
// keys a write changed (none: only policies or identities), so that each
// drops what its caches hold of them and of every identity at once,
// rather than when the entries expire.
const cacheChannel = "overcast_iam_cache"

// forget drops what this process's caches hold of keys and of every
// identity, and tells the processes sharing the store to do the same.
func (s *Service) forget(ctx context.Context, keys ...string) {
	s.keys.invalidate(keys...)
	s.identities.invalidate()
	if s.peers == nil {
		return
	}
	payload, _ := json.Marshal(keys)
	if err := s.peers.Notify(context.WithoutCancel(ctx), cacheChannel, string(payload)); err != nil {
		s.Logger.Warn("iam: telling the other replicas of a change: their caches keep what it changed until they expire", "err", err)
	}
}

// Start listens for the changes other processes sharing the store make.
// Whenever listening (re)starts, a notice may have been missed: every
// cache entry goes.
func (s *Service) Start(context.Context) error {
	if s.peers == nil {
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.stopListening = cancel
	s.listening.Go(func() {
		err := s.peers.Listen(ctx, cacheChannel, func() {
			s.keys.invalidateAll()
			s.identities.invalidate()
		}, func(payload string) {
			var keys []string
			if err := json.Unmarshal([]byte(payload), &keys); err != nil {
				s.keys.invalidateAll()
			}
			s.keys.invalidate(keys...)
			s.identities.invalidate()
		})
		if err != nil {
			s.Logger.Warn("iam: listening for the other replicas' changes", "err", err)
		}
	})
	return nil
}

// Close stops listening.
func (s *Service) Close() error {
	if s.stopListening != nil {
		s.stopListening()
		s.listening.Wait()
	}
	return nil
}

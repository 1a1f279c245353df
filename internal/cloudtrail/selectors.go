package cloudtrail

import (
	"context"
	"encoding/json"
	"time"

	"overcast"
	"overcast/internal/store"
)

// selectorsReload is how often a recorder rereads which scopes want data
// events, for trails changed by another overcast sharing its store; a
// change made through this one applies at once (Service.changedTrails).
const selectorsReload = 10 * time.Second

// dataScopes are the scopes where some logging trail may select data
// events: by account, every region (a multi-region trail) or some.
type dataScopes map[string]*accountScopes

type accountScopes struct {
	all     bool
	regions map[string]bool
}

func (d *dataScopes) has(s overcast.Scope) bool {
	if d == nil {
		return false
	}
	a := (*d)[s.Account]
	return a != nil && (a.all || a.regions[s.Region])
}

// wantsData says whether the trail may deliver data events: whether it
// logs and has a selector that can choose one.
func (t trail) wantsData() bool {
	if !t.Logging {
		return false
	}
	for _, as := range t.AdvancedEventSelectors {
		data := true
		for _, f := range as.FieldSelectors {
			if deref(f.Field) == "eventCategory" && !fieldSelects(f, []string{"Data"}) {
				data = false
			}
		}
		if data {
			return true
		}
	}
	if len(t.AdvancedEventSelectors) > 0 {
		return false
	}
	for _, es := range t.EventSelectors {
		if len(es.DataResources) > 0 {
			return true
		}
	}
	return false
}

// ReloadSelectors rereads which scopes want data events.
func (r *Recorder) ReloadSelectors(ctx context.Context) {
	scopes := dataScopes{}
	err := r.store.View(ctx, func(tx store.Tx) error {
		return tx.Scan(trailsTable, store.ScanOptions{}, func(it store.Item) error {
			var t trail
			if err := json.Unmarshal(it.Value, &t); err != nil || !t.wantsData() {
				return err
			}
			a := scopes[t.Account]
			if a == nil {
				a = &accountScopes{regions: map[string]bool{}}
				scopes[t.Account] = a
			}
			a.all = a.all || t.IsMultiRegionTrail
			a.regions[t.HomeRegion] = true
			return nil
		})
	})
	if err != nil {
		// Keep what was known: dropping every data event because the
		// store hiccuped would lose events trails ask for.
		r.logger.Error("cloudtrail: reading event selectors", "err", err)
		return
	}
	r.dataScopes.Store(&scopes)
}

func (r *Recorder) reloadSelectors() {
	tick := time.NewTicker(selectorsReload)
	defer tick.Stop()
	for {
		select {
		case <-r.stop:
			return
		case <-tick.C:
			r.ReloadSelectors(context.Background())
		}
	}
}

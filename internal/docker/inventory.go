package docker

import (
	"context"
	"errors"
)

// Inventory is everything on the engine that carries some labels.
type Inventory struct {
	Containers []Container
	Networks   []Network
	Volumes    []Volume
	Images     []Image
}

// Inventory lists the containers, networks, volumes and images carrying the
// selector's labels: OwnerSelector(owner) for what a service created, so
// that after a restart it adopts them rather than leaks them.
func (e *Engine) Inventory(ctx context.Context, selector map[string]string) (Inventory, error) {
	var inv Inventory
	var err error
	if inv.Containers, err = e.ListContainers(ctx, selector); err != nil {
		return Inventory{}, err
	}
	if inv.Networks, err = e.ListNetworks(ctx, selector); err != nil {
		return Inventory{}, err
	}
	if inv.Volumes, err = e.ListVolumes(ctx, selector); err != nil {
		return Inventory{}, err
	}
	if inv.Images, err = e.ListImages(ctx, selector); err != nil {
		return Inventory{}, err
	}
	return inv, nil
}

// Purge removes everything carrying the selector's labels: containers
// (killed first, with their anonymous volumes), then networks, volumes and
// images, in the order that frees each for the next. Objects already gone
// are no error; the others are all tried and their errors joined. An empty
// selector is refused: it would select everything on the engine.
func (e *Engine) Purge(ctx context.Context, selector map[string]string) error {
	if len(selector) == 0 {
		return invalid("purge", "an empty selector would remove everything on the engine")
	}
	inv, err := e.Inventory(ctx, selector)
	if err != nil {
		return err
	}
	var errs []error
	keep := func(err error) {
		if err != nil && !errors.Is(err, ErrNotFound) {
			errs = append(errs, err)
		}
	}
	for _, c := range inv.Containers {
		keep(e.RemoveContainer(ctx, c.ID, RemoveOptions{Force: true, Volumes: true}))
	}
	for _, n := range inv.Networks {
		keep(e.RemoveNetwork(ctx, n.ID))
	}
	for _, v := range inv.Volumes {
		keep(e.RemoveVolume(ctx, v.Name, true))
	}
	for _, img := range inv.Images {
		keep(e.RemoveImage(ctx, img.ID, true))
	}
	return errors.Join(errs...)
}

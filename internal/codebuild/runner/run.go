package runner

import (
	"context"
	"errors"
)

func (r *Runner) run(ctx context.Context, b Build, h Hooks, o Observer) (Result, error) {
	return Result{}, errors.New("runner: not implemented yet")
}

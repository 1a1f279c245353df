package docker

import (
	"context"
	"encoding/json"
	"io"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

// Stats is one sample of a container's resource use. CPU figures are
// cumulative: compare two samples (CPUPercent) for a rate.
type Stats struct {
	Read time.Time
	// CPUNanos is the CPU time the container used; SystemCPUNanos the host's
	// total CPU time, the denominator the engine's CLI uses.
	CPUNanos       uint64
	SystemCPUNanos uint64
	OnlineCPUs     int
	// MemoryBytes is what `docker stats` shows: usage less the inactive
	// page cache. MemoryLimitBytes is the cgroup's limit (the host's memory
	// when unlimited).
	MemoryBytes      uint64
	MemoryUsageBytes uint64 // raw cgroup usage, page cache included
	MemoryLimitBytes uint64
	PIDs             uint64
	NetworkRxBytes   uint64
	NetworkTxBytes   uint64
	// Raw is the engine's JSON for the sample, for the ECS task metadata
	// endpoint, which serves it as is.
	Raw json.RawMessage
}

// CPUPercent is the CPU use between two samples as `docker stats` shows it:
// 100 per fully busy CPU.
func CPUPercent(prev, cur Stats) float64 {
	cpu := float64(cur.CPUNanos) - float64(prev.CPUNanos)
	sys := float64(cur.SystemCPUNanos) - float64(prev.SystemCPUNanos)
	if cpu <= 0 || sys <= 0 {
		return 0
	}
	cpus := cur.OnlineCPUs
	if cpus == 0 {
		cpus = 1
	}
	return cpu / sys * float64(cpus) * 100
}

// ContainerStats takes one sample of a running container's resource use,
// without the second sample `docker stats` waits a second for.
func (e *Engine) ContainerStats(ctx context.Context, id string) (Stats, error) {
	op := "stats " + id
	r, err := e.api.ContainerStats(ctx, id, client.ContainerStatsOptions{})
	if err != nil {
		return Stats{}, wrap(op, err)
	}
	defer r.Body.Close()
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		return Stats{}, wrap(op, err)
	}
	var s container.StatsResponse
	if err := json.Unmarshal(raw, &s); err != nil {
		return Stats{}, wrap(op, err)
	}
	return statsOf(s, raw), nil
}

func statsOf(s container.StatsResponse, raw []byte) Stats {
	out := Stats{
		Read:             s.Read,
		CPUNanos:         s.CPUStats.CPUUsage.TotalUsage,
		SystemCPUNanos:   s.CPUStats.SystemUsage,
		OnlineCPUs:       int(s.CPUStats.OnlineCPUs),
		MemoryUsageBytes: s.MemoryStats.Usage,
		MemoryBytes:      s.MemoryStats.Usage,
		MemoryLimitBytes: s.MemoryStats.Limit,
		PIDs:             s.PidsStats.Current,
		Raw:              raw,
	}
	if out.OnlineCPUs == 0 {
		out.OnlineCPUs = len(s.CPUStats.CPUUsage.PercpuUsage)
	}
	// cgroup v1 calls the page cache total_inactive_file, v2 inactive_file.
	for _, k := range []string{"total_inactive_file", "inactive_file"} {
		if v, ok := s.MemoryStats.Stats[k]; ok && v < out.MemoryBytes {
			out.MemoryBytes -= v
			break
		}
	}
	for _, n := range s.Networks {
		out.NetworkRxBytes += n.RxBytes
		out.NetworkTxBytes += n.TxBytes
	}
	return out
}

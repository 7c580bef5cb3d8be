package bridge

import (
	"sort"
	"testing"
	"time"
)

// BenchmarkHostToPageLatency measures how long a host message takes from
// Send to the page's read over loopback, one message in flight at a time,
// and reports the median and the 99th percentile in milliseconds.
func BenchmarkHostToPageLatency(b *testing.B) {
	s := start(b)
	ws := page(b, s, "")
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		if err := s.Send(&Progress{Phase: "benchmark", State: "progress", Fraction: 0.4, Overall: 0.3, Detail: "disk write rate"}); err != nil {
			b.Fatal(err)
		}
		if _, _, err := ws.ReadMessage(); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	reportLatency(b, lat)
}

func reportLatency(b *testing.B, lat []time.Duration) {
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	ms := func(q float64) float64 {
		return float64(lat[int(q*float64(len(lat)-1))]) / float64(time.Millisecond)
	}
	b.ReportMetric(ms(0.5), "p50-ms")
	b.ReportMetric(ms(0.99), "p99-ms")
}

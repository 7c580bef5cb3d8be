package ui

import (
	"context"
	"sort"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/seattletestbed/seattle-installer/bridge"
	"github.com/seattletestbed/seattle-installer/native/ui/chrometest"
)

// BenchmarkFirstProgressInChromium measures, in real headless Chromium,
// the time from pressing Install to the first progress on screen: the
// page's start goes over the bridge, the install begins, its first event
// comes back and is drawn (the frame after the DOM changed). Each round is
// a fresh server, page and install; only the press-to-paint time counts.
func BenchmarkFirstProgressInChromium(b *testing.B) {
	ctx := chrometest.New(b, 1024, 768)
	var ms []float64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		srv, err := bridge.New(DonorPage())
		if err != nil {
			b.Fatal(err)
		}
		sctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			session(sctx, srv, options(b, false), "browser", nil)
			close(done)
		}()
		chrometest.Do(b, ctx, "open the page", chromedp.Navigate(srv.URL()))
		chrometest.WaitFor(b, ctx, "the vessels", `document.body.dataset.vessels === 'valid'`, 20*time.Second)
		b.StartTimer()
		elapsed := chrometest.Eval[float64](b, ctx, `new Promise((resolve) => {
			const t0 = performance.now();
			const seen = () => {
				if (!document.body.dataset.phase) return false;
				requestAnimationFrame(() => resolve(performance.now() - t0));
				return true;
			};
			const obs = new MutationObserver(() => { if (seen()) obs.disconnect(); });
			obs.observe(document.body, { attributes: true });
			document.getElementById('install').click();
		})`)
		b.StopTimer()
		ms = append(ms, elapsed)
		chrometest.WaitFor(b, ctx, "the result", `document.body.dataset.result === 'ok'`, 30*time.Second)
		<-done
		cancel()
		srv.Close()
		b.StartTimer()
	}
	b.StopTimer()
	sort.Float64s(ms)
	b.ReportMetric(ms[len(ms)/2], "median-ms")
	b.ReportMetric(ms[len(ms)-1], "max-ms")
}

package builder

import (
	"fmt"
	"strings"

	qrcode "github.com/yeqown/go-qrcode/v2"
)

// qrQuiet is the blank margin around a QR code, in modules: the four the
// standard asks for, without which phone cameras often fail to find it.
const qrQuiet = 4

// QRSVG returns a QR code of text as an SVG document: one dark path on a
// white square, drawn in modules (viewBox units) so that it scales to any
// size without blurring. Error correction is level M (15 %), the common
// choice for links shown on a screen or printed.
func QRSVG(text string) (string, error) {
	bits, err := qrBitmap(text)
	if err != nil {
		return "", err
	}
	n := len(bits) + 2*qrQuiet
	var path strings.Builder
	for y, row := range bits {
		for x := 0; x < len(row); {
			if !row[x] {
				x++
				continue
			}
			run := 1
			for x+run < len(row) && row[x+run] {
				run++
			}
			// One rectangle per run of dark modules in a row.
			fmt.Fprintf(&path, "M%d %dh%dv1h-%dz", x+qrQuiet, y+qrQuiet, run, run)
			x += run
		}
	}
	return fmt.Sprintf(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" shape-rendering="crispEdges" role="img" aria-label="QR code of %s">`+
		`<rect width="%d" height="%d" fill="#fff"/><path fill="#000" d="%s"/></svg>`,
		n, n, htmlAttr(text), n, n, path.String()), nil
}

// qrBitmap returns the QR code's modules, [row][column], true for dark,
// without the quiet zone.
func qrBitmap(text string) ([][]bool, error) {
	q, err := qrcode.NewWith(text, qrcode.WithErrorCorrectionLevel(qrcode.ErrorCorrectionMedium))
	if err != nil {
		return nil, fmt.Errorf("QR code: %w", err)
	}
	var w bitmapWriter
	if err := q.Save(&w); err != nil {
		return nil, fmt.Errorf("QR code: %w", err)
	}
	return w.bits, nil
}

// bitmapWriter is a qrcode.Writer that keeps the modules.
type bitmapWriter struct{ bits [][]bool }

func (w *bitmapWriter) Write(m qrcode.Matrix) error { w.bits = m.Bitmap(); return nil }
func (w *bitmapWriter) Close() error                { return nil }

// htmlAttr escapes s for an attribute value in double quotes.
func htmlAttr(s string) string {
	return strings.NewReplacer("&", "&amp;", `"`, "&quot;", "<", "&lt;", ">", "&gt;").Replace(s)
}

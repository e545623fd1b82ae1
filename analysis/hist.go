package analysis

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
)

// Merging latency histograms is the hot path of an analysis: a 1-hour run has
// 3,600 windows × ~7 requests, and a layer's p95 per window needs its
// requests' histograms merged. engine.DecodeHist allocates a dense
// hdrhistogram (≈184 KB at spike's geometry) and a zlib reader (≈40 KB) per
// call: about 150 µs each, several seconds per hour of run. The decoder below
// reads the same V2 compressed encoding with a reused zlib reader and reused
// buffers, yields only the populated buckets, and the accumulator adds them
// into one dense array whose touched range alone is scanned and cleared. Each
// stored histogram is decoded at most once per Analyze, and its buckets feed
// every merge that needs them (layer-in-window, request-at-low-load,
// layer-at-low-load, overall-at-low-load).
//
// Percentiles follow hdrhistogram-go exactly (nearest rank, highest
// equivalent value of the bucket), so a merge of one histogram reproduces the
// engine's own figures; TestHistDecoder_MatchesLibrary checks it.

// V2 wire constants (hdrhistogram-go: V2CompressedEncodingCookieBase and
// V2EncodingCookieBase; the low nibble's 0x10 flag is masked off).
const (
	cookieV2Compressed = 0x1c849304
	cookieV2           = 0x1c849303
	v2HeaderSize       = 40
)

// geometry is an HDR histogram's bucket layout.
type geometry struct {
	unitMag    int32 // log2 of the lowest discernible value
	halfMag    int32 // log2 of the sub-bucket half count
	halfCount  int32
	countsLen  int32
	lowest     int64
	highest    int64
	sigDigits  int32
	configured bool
}

func newGeometry(lowest, highest int64, sig int32) (geometry, error) {
	if sig < 0 || sig > 5 {
		return geometry{}, fmt.Errorf("significant digits %d out of range", sig)
	}
	if lowest < 1 {
		lowest = 1
	}
	if highest < 2*lowest {
		highest = 2 * lowest
	}
	largest := 2 * math.Pow10(int(sig))
	subMag := int32(math.Ceil(math.Log2(largest)))
	halfMag := subMag
	if halfMag < 1 {
		halfMag = 1
	}
	halfMag--
	unitMag := int32(math.Floor(math.Log2(float64(lowest))))
	if unitMag < 0 {
		unitMag = 0
	}
	if unitMag+halfMag > 61 {
		return geometry{}, fmt.Errorf("geometry (%d, %d digits) not representable", lowest, sig)
	}
	subCount := int64(1) << (halfMag + 1)
	untrackable := subCount << unitMag
	buckets := int32(1)
	for untrackable <= highest {
		if untrackable > math.MaxInt64/2 {
			buckets++
			break
		}
		untrackable <<= 1
		buckets++
	}
	half := int32(subCount / 2)
	return geometry{
		unitMag: unitMag, halfMag: halfMag, halfCount: half,
		countsLen: (buckets + 1) * half,
		lowest:    lowest, highest: highest, sigDigits: sig, configured: true,
	}, nil
}

func (g *geometry) same(o *geometry) bool {
	return g.unitMag == o.unitMag && g.halfMag == o.halfMag && g.countsLen == o.countsLen
}

// value returns the highest value equivalent to the bucket at flat index i:
// what hdrhistogram reports for a percentile landing in that bucket.
func (g *geometry) value(i int32) int64 {
	bucket := (i >> g.halfMag) - 1
	sub := (i & (g.halfCount - 1)) + g.halfCount
	if bucket < 0 {
		sub -= g.halfCount
		bucket = 0
	}
	shift := uint(bucket + g.unitMag)
	return int64(sub)<<shift + int64(1)<<shift - 1
}

// index returns the flat index of the bucket holding v.
func (g *geometry) index(v int64) int32 {
	if v < 0 {
		v = 0
	}
	mask := int64(2*g.halfCount-1) << uint(g.unitMag)
	pow2 := int32(64 - bits.LeadingZeros64(uint64(v|mask)))
	bucket := pow2 - g.unitMag - (g.halfMag + 1)
	sub := int32(v >> uint(bucket+g.unitMag))
	return (bucket+1)<<uint(g.halfMag) + sub - g.halfCount
}

// bucket is one populated bucket of a decoded histogram.
type bucket struct {
	idx   int32
	count int64
}

// histDecoder decodes V2 compressed, base64 histograms, reusing its buffers.
// It is not safe for concurrent use.
type histDecoder struct {
	raw     []byte
	payload []byte
	zr      io.ReadCloser
	src     bytes.Reader
	out     []bucket
}

var errTruncated = errors.New("truncated histogram payload")

// decode returns the populated buckets of the encoded histogram s and its
// geometry. The returned slice is reused by the next call.
func (d *histDecoder) decode(s string) ([]bucket, geometry, error) {
	d.out = d.out[:0]
	if s == "" {
		return d.out, geometry{}, nil
	}
	n := base64.StdEncoding.DecodedLen(len(s))
	if cap(d.raw) < n {
		d.raw = make([]byte, n)
	}
	n, err := base64.StdEncoding.Decode(d.raw[:n], []byte(s))
	if err != nil {
		return nil, geometry{}, fmt.Errorf("decode histogram: %w", err)
	}
	raw := d.raw[:n]
	if len(raw) < 8 {
		return nil, geometry{}, fmt.Errorf("decode histogram: %d bytes, too short", len(raw))
	}
	if c := int32(binary.BigEndian.Uint32(raw)) &^ 0xf0; c != cookieV2Compressed {
		return nil, geometry{}, fmt.Errorf("decode histogram: cookie %#x is not V2 compressed", c)
	}
	clen := int(binary.BigEndian.Uint32(raw[4:]))
	if clen < 0 || clen > len(raw)-8 {
		return nil, geometry{}, fmt.Errorf("decode histogram: compressed length %d past the end", clen)
	}
	d.src.Reset(raw[8 : 8+clen])
	if d.zr == nil {
		d.zr, err = zlib.NewReader(&d.src)
	} else {
		err = d.zr.(zlib.Resetter).Reset(&d.src, nil)
	}
	if err != nil {
		d.zr = nil
		return nil, geometry{}, fmt.Errorf("decode histogram: %w", err)
	}
	var hdr [v2HeaderSize]byte
	if _, err := io.ReadFull(d.zr, hdr[:]); err != nil {
		return nil, geometry{}, fmt.Errorf("decode histogram header: %w", err)
	}
	if c := int32(binary.BigEndian.Uint32(hdr[:])) &^ 0xf0; c != cookieV2 {
		return nil, geometry{}, fmt.Errorf("decode histogram: payload cookie %#x is not V2", c)
	}
	plen := int(int32(binary.BigEndian.Uint32(hdr[4:])))
	sig := int32(binary.BigEndian.Uint32(hdr[12:]))
	lowest := int64(binary.BigEndian.Uint64(hdr[16:]))
	highest := int64(binary.BigEndian.Uint64(hdr[24:]))
	g, err := newGeometry(lowest, highest, sig)
	if err != nil {
		return nil, geometry{}, fmt.Errorf("decode histogram: %w", err)
	}
	if plen < 0 || plen > int(g.countsLen)*9 {
		return nil, geometry{}, fmt.Errorf("decode histogram: payload length %d out of range", plen)
	}
	if cap(d.payload) < plen {
		d.payload = make([]byte, plen)
	}
	p := d.payload[:plen]
	if _, err := io.ReadFull(d.zr, p); err != nil {
		return nil, geometry{}, fmt.Errorf("decode histogram payload: %w", err)
	}
	var idx int64
	for pos := 0; pos < len(p); {
		v, k := zigzag(p[pos:])
		if k == 0 {
			return nil, geometry{}, errTruncated
		}
		pos += k
		if v < 0 {
			idx -= v // a run of -v empty buckets
			continue
		}
		if idx >= int64(g.countsLen) {
			return nil, geometry{}, fmt.Errorf("decode histogram: bucket %d past %d", idx, g.countsLen)
		}
		if v > 0 {
			d.out = append(d.out, bucket{int32(idx), v})
		}
		idx++
	}
	return d.out, g, nil
}

// zigzag reads one ZigZag LEB128 value as hdrhistogram writes it (at most 9
// bytes, the ninth carrying 8 bits). It returns 0 bytes read when truncated.
func zigzag(b []byte) (int64, int) {
	var u uint64
	for i := 0; i < 9; i++ {
		if i >= len(b) {
			return 0, 0
		}
		if i == 8 {
			u |= uint64(b[i]) << 56
			return int64((u >> 1) ^ -(u & 1)), 9
		}
		u |= uint64(b[i]&0x7f) << (7 * uint(i))
		if b[i]&0x80 == 0 {
			return int64((u >> 1) ^ -(u & 1)), i + 1
		}
	}
	return 0, 0
}

// acc accumulates decoded histograms of one geometry into a dense counts
// array. Only the touched index range is scanned and cleared, so a reset and a
// percentile cost O(range), not O(countsLen). The zero acc is ready to use; it
// takes the geometry of the first histogram added.
type acc struct {
	g      geometry
	counts []int64
	total  int64
	lo, hi int32 // touched range, inclusive; lo > hi when empty
}

// add adds the buckets of a histogram of geometry g.
func (a *acc) add(bs []bucket, g geometry) {
	if len(bs) == 0 {
		return
	}
	if !a.g.configured {
		a.g = g
		a.counts = make([]int64, g.countsLen)
		a.lo, a.hi = g.countsLen, -1
	}
	same := a.g.same(&g)
	for _, b := range bs {
		i := b.idx
		if !same {
			i = a.g.index(g.value(i))
			if i >= a.g.countsLen {
				i = a.g.countsLen - 1
			}
		}
		a.counts[i] += b.count
		a.total += b.count
		if i < a.lo {
			a.lo = i
		}
		if i > a.hi {
			a.hi = i
		}
	}
}

// reset empties a, keeping its storage.
func (a *acc) reset() {
	if a.total > 0 {
		clear(a.counts[a.lo : a.hi+1])
	}
	a.total = 0
	a.lo, a.hi = a.g.countsLen, -1
}

// percentiles returns the values (in the histogram's unit) at p1 and p2 (in
// percent, p1 <= p2) and the maximum, as hdrhistogram computes them.
func (a *acc) percentiles(p1, p2 float64) (v1, v2, max int64) {
	if a.total == 0 {
		return 0, 0, 0
	}
	r1, r2 := rank(p1, a.total), rank(p2, a.total)
	var cum int64
	got1 := false
	for i := a.lo; i <= a.hi; i++ {
		c := a.counts[i]
		if c == 0 {
			continue
		}
		cum += c
		if !got1 && cum >= r1 {
			v1, got1 = a.g.value(i), true
		}
		if cum >= r2 {
			v2 = a.g.value(i)
			break
		}
	}
	return v1, v2, a.g.value(a.hi)
}

// rank is hdrhistogram's nearest rank for percentile p of total samples.
func rank(p float64, total int64) int64 {
	r := p/100*float64(total) + 0.5
	if !(r >= 1) {
		return 1
	}
	if r >= float64(total) {
		return total
	}
	return int64(r)
}

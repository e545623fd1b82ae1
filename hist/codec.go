// Package hist is spike's one histogram package: HDR histograms that record
// latencies, merge, give quantiles, and read and write the V2 compressed
// encoding (base64 of a zlib-compressed, ZigZag LEB128 counts array) that
// hdrhistogram-go, HdrHistogram (Java) and spike's result files use. Every
// figure it gives is the one hdrhistogram-go gives for the same counts, and
// every encoding it writes is the library's, byte for byte; its tests hold it
// to the library.
//
// It exists for speed: hdrhistogram-go's Encode allocates a new zlib writer
// at best compression (≈0.8 MB) per call and Decode a dense histogram and a
// zlib reader, which made closing a window of a run cost about a millisecond
// and a megabyte of garbage per histogram, and an analysis of a 1-hour
// result seconds. The Encoder and Decoder here reuse their buffers, and a
// Hist costs the range of buckets it touched, not its whole counts array.
//
// It knows nothing of windows or requests: the engine records into it, the
// result keeps its encodings, and the analysis, the search and the report
// decode and merge them.
package hist

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

// V2 wire constants (hdrhistogram-go: V2CompressedEncodingCookieBase and
// V2EncodingCookieBase; the low nibble's 0x10 flag is masked off).
const (
	cookieV2Compressed = 0x1c849304
	cookieV2           = 0x1c849303
	v2HeaderSize       = 40
)

// Geometry is an HDR histogram's bucket layout.
type Geometry struct {
	unitMag    int32 // log2 of the lowest discernible value
	halfMag    int32 // log2 of the sub-bucket half count
	halfCount  int32
	CountsLen  int32
	Lowest     int64
	Highest    int64
	SigDigits  int32
	Configured bool
}

// NewGeometry returns the layout hdrhistogram-go's New(lowest, highest, sig)
// uses: values from lowest to highest at sig significant decimal digits
// (0 to 5). A lowest below 1 is taken as 1, a highest below 2×lowest as
// 2×lowest, as the library does.
func NewGeometry(lowest, highest int64, sig int32) (Geometry, error) {
	if sig < 0 || sig > 5 {
		return Geometry{}, fmt.Errorf("significant digits %d out of range", sig)
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
		return Geometry{}, fmt.Errorf("geometry (%d, %d digits) not representable", lowest, sig)
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
	return Geometry{
		unitMag: unitMag, halfMag: halfMag, halfCount: half,
		CountsLen: (buckets + 1) * half,
		Lowest:    lowest, Highest: highest, SigDigits: sig, Configured: true,
	}, nil
}

// Same reports whether g and o lay buckets out alike (a bucket index means
// the same values in both).
func (g *Geometry) Same(o *Geometry) bool {
	return g.unitMag == o.unitMag && g.halfMag == o.halfMag && g.CountsLen == o.CountsLen
}

// Value returns the highest value equivalent to the bucket at flat index i:
// what hdrhistogram reports for a percentile landing in that bucket.
func (g *Geometry) Value(i int32) int64 {
	bucket := (i >> g.halfMag) - 1
	sub := (i & (g.halfCount - 1)) + g.halfCount
	if bucket < 0 {
		sub -= g.halfCount
		bucket = 0
	}
	shift := uint(bucket + g.unitMag)
	return int64(sub)<<shift + int64(1)<<shift - 1
}

// Index returns the flat index of the bucket holding v.
func (g *Geometry) Index(v int64) int32 {
	if v < 0 {
		v = 0
	}
	mask := int64(2*g.halfCount-1) << uint(g.unitMag)
	pow2 := int32(64 - bits.LeadingZeros64(uint64(v|mask)))
	bucket := pow2 - g.unitMag - (g.halfMag + 1)
	sub := int32(v >> uint(bucket+g.unitMag))
	return (bucket+1)<<uint(g.halfMag) + sub - g.halfCount
}

// Bucket is one populated bucket of a decoded histogram.
type Bucket struct {
	Idx   int32
	Count int64
}

// Decoder decodes V2 compressed, base64 histograms, reusing its buffers.
// It is not safe for concurrent use.
type Decoder struct {
	raw     []byte
	payload []byte
	zr      io.ReadCloser
	src     bytes.Reader
	out     []Bucket
}

var errTruncated = errors.New("truncated histogram payload")

// Decode returns the populated buckets of the encoded histogram s and its
// Geometry. The returned slice is reused by the next call.
func (d *Decoder) Decode(s string) ([]Bucket, Geometry, error) {
	d.out = d.out[:0]
	if s == "" {
		return d.out, Geometry{}, nil
	}
	n := base64.StdEncoding.DecodedLen(len(s))
	if cap(d.raw) < n {
		d.raw = make([]byte, n)
	}
	n, err := base64.StdEncoding.Decode(d.raw[:n], []byte(s))
	if err != nil {
		return nil, Geometry{}, fmt.Errorf("decode histogram: %w", err)
	}
	raw := d.raw[:n]
	if len(raw) < 8 {
		return nil, Geometry{}, fmt.Errorf("decode histogram: %d bytes, too short", len(raw))
	}
	if c := int32(binary.BigEndian.Uint32(raw)) &^ 0xf0; c != cookieV2Compressed {
		return nil, Geometry{}, fmt.Errorf("decode histogram: cookie %#x is not V2 compressed", c)
	}
	clen := int(binary.BigEndian.Uint32(raw[4:]))
	if clen < 0 || clen > len(raw)-8 {
		return nil, Geometry{}, fmt.Errorf("decode histogram: compressed length %d past the end", clen)
	}
	d.src.Reset(raw[8 : 8+clen])
	if d.zr == nil {
		d.zr, err = zlib.NewReader(&d.src)
	} else {
		err = d.zr.(zlib.Resetter).Reset(&d.src, nil)
	}
	if err != nil {
		d.zr = nil
		return nil, Geometry{}, fmt.Errorf("decode histogram: %w", err)
	}
	var hdr [v2HeaderSize]byte
	if _, err := io.ReadFull(d.zr, hdr[:]); err != nil {
		return nil, Geometry{}, fmt.Errorf("decode histogram header: %w", err)
	}
	if c := int32(binary.BigEndian.Uint32(hdr[:])) &^ 0xf0; c != cookieV2 {
		return nil, Geometry{}, fmt.Errorf("decode histogram: payload cookie %#x is not V2", c)
	}
	plen := int(int32(binary.BigEndian.Uint32(hdr[4:])))
	sig := int32(binary.BigEndian.Uint32(hdr[12:]))
	lowest := int64(binary.BigEndian.Uint64(hdr[16:]))
	highest := int64(binary.BigEndian.Uint64(hdr[24:]))
	g, err := NewGeometry(lowest, highest, sig)
	if err != nil {
		return nil, Geometry{}, fmt.Errorf("decode histogram: %w", err)
	}
	if plen < 0 || plen > int(g.CountsLen)*9 {
		return nil, Geometry{}, fmt.Errorf("decode histogram: payload length %d out of range", plen)
	}
	if cap(d.payload) < plen {
		d.payload = make([]byte, plen)
	}
	p := d.payload[:plen]
	if _, err := io.ReadFull(d.zr, p); err != nil {
		return nil, Geometry{}, fmt.Errorf("decode histogram payload: %w", err)
	}
	var idx int64
	for pos := 0; pos < len(p); {
		v, k := zigzag(p[pos:])
		if k == 0 {
			return nil, Geometry{}, errTruncated
		}
		pos += k
		if v < 0 {
			idx -= v // a run of -v empty buckets
			continue
		}
		if idx >= int64(g.CountsLen) {
			return nil, Geometry{}, fmt.Errorf("decode histogram: bucket %d past %d", idx, g.CountsLen)
		}
		if v > 0 {
			d.out = append(d.out, Bucket{int32(idx), v})
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

// LowestEquivalent returns the lowest value equivalent to the bucket at flat index i.
func (g *Geometry) LowestEquivalent(i int32) int64 {
	return g.Value(i) - g.size(i) + 1
}

// size returns the width of the bucket at flat index i.
func (g *Geometry) size(i int32) int64 {
	bucket := (i >> g.halfMag) - 1
	if bucket < 0 {
		bucket = 0
	}
	return int64(1) << uint(bucket+g.unitMag)
}

// Median returns the middle value of the bucket at flat index i, which
// hdrhistogram uses for the mean.
func (g *Geometry) Median(i int32) int64 {
	return g.LowestEquivalent(i) + g.size(i)>>1
}

// Encoder writes histograms in the V2 compressed encoding, reusing its zlib
// writer and buffers between calls. It is not safe for concurrent use.
type Encoder struct {
	zw      *zlib.Writer
	payload []byte
	z       bytes.Buffer
	raw     []byte
	out     []byte
}

// Encode returns the base64 V2 compressed encoding of counts laid out by g,
// byte for byte what hdrhistogram-go's Encode(V2CompressedEncodingCookieBase)
// writes for a histogram with these counts (conversion ratio 1).
func (e *Encoder) Encode(g *Geometry, counts []int64) string {
	limit := 0
	for i := len(counts) - 1; i >= 0; i-- {
		if counts[i] != 0 {
			limit = i + 1
			break
		}
	}
	if limit == 0 {
		limit = 1 // an empty histogram still writes its first bucket
	}
	p := e.payload[:0]
	p = binary.BigEndian.AppendUint32(p, uint32(cookieV2|0x10))
	p = binary.BigEndian.AppendUint32(p, 0) // payload length, set below
	p = binary.BigEndian.AppendUint32(p, 0) // normalizing index offset
	p = binary.BigEndian.AppendUint32(p, uint32(g.SigDigits))
	p = binary.BigEndian.AppendUint64(p, uint64(g.Lowest))
	p = binary.BigEndian.AppendUint64(p, uint64(g.Highest))
	p = binary.BigEndian.AppendUint64(p, math.Float64bits(1))
	for i := 0; i < limit; {
		c := counts[i]
		i++
		if c == 0 {
			zeros := int64(1)
			for i < limit && counts[i] == 0 {
				zeros++
				i++
			}
			if zeros > 1 {
				c = -zeros
			}
		}
		p = appendZigzag(p, c)
	}
	binary.BigEndian.PutUint32(p[4:], uint32(len(p)-v2HeaderSize))
	e.payload = p

	e.z.Reset()
	if e.zw == nil {
		e.zw, _ = zlib.NewWriterLevel(&e.z, zlib.BestCompression)
	} else {
		e.zw.Reset(&e.z)
	}
	_, _ = e.zw.Write(p)
	_ = e.zw.Close()

	raw := e.raw[:0]
	raw = binary.BigEndian.AppendUint32(raw, uint32(cookieV2Compressed|0x10))
	raw = binary.BigEndian.AppendUint32(raw, uint32(e.z.Len()))
	raw = append(raw, e.z.Bytes()...)
	e.raw = raw
	n := base64.StdEncoding.EncodedLen(len(raw))
	if cap(e.out) < n {
		e.out = make([]byte, n)
	}
	base64.StdEncoding.Encode(e.out[:n], raw)
	return string(e.out[:n])
}

// appendZigzag appends v as hdrhistogram's ZigZag LEB128-64b9B: eight
// groups of seven bits, then a ninth byte with the last eight.
func appendZigzag(b []byte, v int64) []byte {
	u := uint64((v << 1) ^ (v >> 63))
	for i := 0; i < 8; i++ {
		if u>>7 == 0 {
			return append(b, byte(u))
		}
		b = append(b, byte(u&0x7f|0x80))
		u >>= 7
	}
	return append(b, byte(u))
}

// EncodeHist returns h's V2 compressed encoding; "" for a zero Hist that
// never took a geometry.
func (e *Encoder) EncodeHist(h *Hist) string {
	if !h.g.Configured {
		return ""
	}
	if h.total == 0 {
		return e.Encode(&h.g, h.counts[:1])
	}
	return e.Encode(&h.g, h.counts[:h.hi+1])
}

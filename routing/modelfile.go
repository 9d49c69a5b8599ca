package routing

import (
	"bufio"
	"bytes"
	"cmp"
	"compress/gzip"
	_ "embed"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
)

// The model file: the magic line, then a gzip stream holding
//
//	uvarint length, JSON header (modelHeader)
//	uvarint feature count, then per feature: uvarint length, name bytes
//	float32 weights, little-endian, numClasses per feature, in feature order
//
// Features are sorted by name and the header is JSON with sorted keys, so
// the same model always gives the same bytes.
const (
	modelMagic   = "socialroute model\n"
	modelFormat  = 1
	maxModelSize = 64 << 20 // uncompressed; far above any real model
)

// defaultModelFile is the model trained by `socialroute train` from the
// sources listed in MODEL.md.
//
//go:embed model/socialroute.model
var defaultModelFile []byte

// ErrBadModel is wrapped by every error about a model file's content.
var ErrBadModel = errors.New("bad model file")

type modelHeader struct {
	Format      int                 `json:"format"`
	Classes     []Class             `json:"classes"`
	Bias        []float64           `json:"bias"`
	Temperature float64             `json:"temperature"`
	Negators    []string            `json:"negators"`
	TagDict     map[string][]string `json:"hashtag_dictionary"`
	Info        ModelInfo           `json:"info"`
}

// DefaultModel returns the model built into the binary. Each call parses
// it afresh (some tens of milliseconds): keep the result.
func DefaultModel() (*Model, error) {
	m, err := ReadModel(bytes.NewReader(defaultModelFile))
	if err != nil {
		return nil, fmt.Errorf("built-in model: %w", err)
	}
	return m, nil
}

// WriteTo writes the model file. Learned examples are part of the weights
// written, but the file does not remember how many there were.
func (m *Model) WriteTo(w io.Writer) (int64, error) {
	var body bytes.Buffer
	h := modelHeader{
		Format:      modelFormat,
		Classes:     modelClasses[:],
		Bias:        m.bias[:],
		Temperature: m.temperature,
		Negators:    m.x.negatorList,
		TagDict:     m.x.tagDict,
		Info:        m.info,
	}
	hdr, err := json.Marshal(h)
	if err != nil {
		return 0, fmt.Errorf("encode model header: %w", err)
	}
	order := make([]int, len(m.names))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return cmp.Compare(m.names[a], m.names[b]) })

	var tmp [binary.MaxVarintLen64]byte
	putUvarint := func(v uint64) { body.Write(tmp[:binary.PutUvarint(tmp[:], v)]) }
	putUvarint(uint64(len(hdr)))
	body.Write(hdr)
	putUvarint(uint64(len(m.names)))
	for _, i := range order {
		putUvarint(uint64(len(m.names[i])))
		body.WriteString(m.names[i])
	}
	var f [4]byte
	for _, i := range order {
		for c := range numClasses {
			binary.LittleEndian.PutUint32(f[:], math.Float32bits(m.weights[i*numClasses+c]))
			body.Write(f[:])
		}
	}

	var out bytes.Buffer
	out.WriteString(modelMagic)
	zw, err := gzip.NewWriterLevel(&out, gzip.BestCompression)
	if err != nil {
		return 0, err
	}
	zw.Write(body.Bytes())
	if err := zw.Close(); err != nil {
		return 0, fmt.Errorf("compress model: %w", err)
	}
	n, err := w.Write(out.Bytes())
	return int64(n), err
}

// ReadModel reads a model file written by WriteTo. Errors say what is
// wrong with the file and match ErrBadModel.
func ReadModel(r io.Reader) (*Model, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrBadModel, fmt.Sprintf(format, args...))
	}
	br := bufio.NewReader(r)
	magic := make([]byte, len(modelMagic))
	if _, err := io.ReadFull(br, magic); err != nil || string(magic) != modelMagic {
		return nil, bad("not a socialroute model (it should start with %q)", modelMagic[:len(modelMagic)-1])
	}
	zr, err := gzip.NewReader(br)
	if err != nil {
		return nil, bad("compressed body: %v", err)
	}
	body, err := io.ReadAll(io.LimitReader(zr, maxModelSize+1))
	if err != nil {
		return nil, bad("compressed body: %v", err)
	}
	if len(body) > maxModelSize {
		return nil, bad("larger than %d bytes uncompressed", maxModelSize)
	}
	rd := bytes.NewReader(body)
	uvarint := func(what string, max uint64) (uint64, error) {
		v, err := binary.ReadUvarint(rd)
		if err != nil {
			return 0, bad("%s: truncated", what)
		}
		if v > max {
			return 0, bad("%s: %d is too large", what, v)
		}
		return v, nil
	}

	n, err := uvarint("header length", uint64(rd.Len()))
	if err != nil {
		return nil, err
	}
	hdrBytes := make([]byte, n)
	io.ReadFull(rd, hdrBytes)
	var h modelHeader
	dec := json.NewDecoder(bytes.NewReader(hdrBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&h); err != nil {
		return nil, bad("header: %v", err)
	}
	switch {
	case h.Format != modelFormat:
		return nil, bad("format %d, this build reads format %d", h.Format, modelFormat)
	case !slices.Equal(h.Classes, modelClasses[:]):
		return nil, bad("classes %v, want %v", h.Classes, modelClasses)
	case len(h.Bias) != numClasses:
		return nil, bad("%d bias values, want %d", len(h.Bias), numClasses)
	case !(h.Temperature > 0) || math.IsInf(h.Temperature, 0):
		return nil, bad("temperature %v is not a positive number", h.Temperature)
	}
	var bias [numClasses]float64
	for i, b := range h.Bias {
		if math.IsNaN(b) || math.IsInf(b, 0) {
			return nil, bad("bias %d is %v", i, b)
		}
		bias[i] = b
	}

	count, err := uvarint("feature count", uint64(rd.Len()))
	if err != nil {
		return nil, err
	}
	names := make([]string, count)
	seen := make(map[uint64]string, count)
	for i := range names {
		l, err := uvarint("feature name length", 1<<10)
		if err != nil {
			return nil, err
		}
		b := make([]byte, l)
		if _, err := io.ReadFull(rd, b); err != nil {
			return nil, bad("feature %d: truncated", i)
		}
		name := string(b)
		if len(name) < 3 || name[1] != ':' || !validKind(name[0]) {
			return nil, bad("feature %d: %q is not a feature name", i, name)
		}
		hash := featureHash(name)
		if prev, dup := seen[hash]; dup {
			return nil, bad("features %q and %q have the same hash", prev, name)
		}
		seen[hash] = name
		names[i] = name
	}
	if want := int(count) * numClasses * 4; rd.Len() != want {
		return nil, bad("%d bytes of weights, want %d", rd.Len(), want)
	}
	weights := make([]float32, int(count)*numClasses)
	var f [4]byte
	for i := range weights {
		io.ReadFull(rd, f[:])
		w := math.Float32frombits(binary.LittleEndian.Uint32(f[:]))
		if math.IsNaN(float64(w)) || math.IsInf(float64(w), 0) {
			return nil, bad("weight %d of feature %q is %v", i%numClasses, names[i/numClasses], w)
		}
		weights[i] = w
	}
	x := newExtractor(h.Negators, h.TagDict)
	return newModel(x, names, weights, bias, h.Temperature, h.Info), nil
}

func validKind(k byte) bool {
	switch k {
	case kindWord, kindNegated, kindBigram, kindNgram, kindHashtag, kindSignal, kindStem:
		return true
	}
	return false
}

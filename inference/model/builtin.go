package model

import (
	"fmt"
	"io/fs"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// BuiltinModelName is the file SageMaker's built-in XGBoost algorithm saves its model as; a
// k-fold cross-validation job saves one per fold as BuiltinModelName-0 .. -k
// with Booster.save_model, so in the legacy binary format under XGBoost 1.x and UBJSON from 2.x
// (aws/sagemaker-xgboost-container@cb8df91:src/sagemaker_xgboost_container/algorithm_mode/train.py:479-486).
const BuiltinModelName = "xgboost-model"

// LoadOptions tunes Load for a built-in algorithm artifact.
type LoadOptions struct {
	// NoEnsemble serves only the first fold of a k-fold artifact, as the built-in container
	// does with SAGEMAKER_INFERENCE_ENSEMBLE=false. Default false: every fold, combined.
	NoEnsemble bool
}

// builtinFiles returns the built-in algorithm's model files in dir, in fold order: the single
// xgboost-model, or xgboost-model-0 .. -k. It returns nil when dir holds neither, and an error
// when it holds both kinds or a fold name is not a number.
func builtinFiles(entries []fs.DirEntry) ([]string, error) {
	var single bool
	type fold struct {
		name string
		n    int
	}
	var folds []fold
	for _, e := range entries {
		n := e.Name()
		if n == BuiltinModelName {
			single = true
			continue
		}
		suffix, ok := strings.CutPrefix(n, BuiltinModelName+"-")
		if !ok {
			continue
		}
		k, err := strconv.Atoi(suffix)
		if err != nil || k < 0 {
			continue // xgboost-model-notes.txt and the like are not folds
		}
		folds = append(folds, fold{n, k})
	}
	if single && len(folds) > 0 {
		return nil, fmt.Errorf("holds both %s and k-fold models (%s...): keep one kind", BuiltinModelName, folds[0].name)
	}
	if single {
		return []string{BuiltinModelName}, nil
	}
	slices.SortFunc(folds, func(a, b fold) int { return a.n - b.n })
	names := make([]string, len(folds))
	for i, f := range folds {
		names[i] = f.name
	}
	return names, nil
}

// loadBuiltin loads a built-in algorithm artifact: every fold, each in any XGBoost format the
// built-in container reads (pickle, legacy binary, JSON, UBJSON), checked to agree.
func loadBuiltin(fsys fs.FS, where string, source func(string) string, names []string, manifest *Manifest, opts LoadOptions) (Model, error) {
	if opts.NoEnsemble {
		names = names[:1]
	}
	var info Info
	members := make([]predictor, len(names))
	for i, name := range names {
		head, err := readHead(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("model directory %s: %w", where, err)
		}
		format, hint := detect(head)
		if !strings.HasPrefix(format, "xgboost") {
			return nil, fmt.Errorf("model directory %s: %s is not an XGBoost model%s; SageMaker's built-in algorithm files are read as %s",
				where, name, hint, acceptedFormats)
		}
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("model directory %s: %w", where, err)
		}
		fi, p, err := parse(format, data, manifest.onnxOptions())
		if err != nil {
			return nil, fmt.Errorf("model %s: %w", source(name), err)
		}
		if i == 0 {
			info = fi
			info.Source = source(name)
		} else if fi.Objective != info.Objective || fi.NumFeatures != info.NumFeatures || fi.OutputWidth != info.OutputWidth {
			return nil, fmt.Errorf("model directory %s: fold %s (%s, %d features, %d outputs) differs from %s (%s, %d features, %d outputs): the folds of one training job agree",
				where, name, fi.Objective, fi.NumFeatures, fi.OutputWidth, names[0], info.Objective, info.NumFeatures, info.OutputWidth)
		}
		members[i] = p
	}
	info.Builtin = true
	info.Ensemble = len(members)
	if len(members) > 1 {
		info.Source = source(names[0]) + fmt.Sprintf(" and %d more folds", len(members)-1)
	}
	if manifest != nil {
		if err := manifest.apply(&info); err != nil {
			return nil, fmt.Errorf("model directory %s: %w", where, err)
		}
	}
	if len(members) == 1 {
		return newLoadedModel(info, members[0]), nil
	}
	width := max(info.OutputWidth, 1)
	return newLoadedModel(info, &ensemble{members: members, width: width, vote: voteObjective(info.Objective)}), nil
}

// voteObjective reports the objectives whose folds are combined by majority vote, because
// their prediction is a class, not a score
// (aws/sagemaker-xgboost-container@cb8df91:src/sagemaker_xgboost_container/algorithm_mode/serve_utils.py:252-260).
func voteObjective(objective string) bool {
	return objective == "multi:softmax" || objective == "binary:hinge"
}

// ensemble is a k-fold model: each fold predicts, and the answer is their mean in float32, as
// numpy's np.mean of XGBoost's float32 predictions, or for a class-only objective the most
// frequent class, the smallest on ties, as scipy.stats.mode.
type ensemble struct {
	members []predictor
	width   int
	vote    bool
	bufs    sync.Pool // *[]float64, one fold's outputs
}

func (e *ensemble) Predict(x []float64, out []float64) error {
	bp, _ := e.bufs.Get().(*[]float64)
	if bp == nil {
		bp = new([]float64)
	}
	defer e.bufs.Put(bp)
	k := len(e.members)
	if cap(*bp) < k*len(out) {
		*bp = make([]float64, k*len(out))
	}
	all := (*bp)[:k*len(out)]
	for i, m := range e.members {
		if err := m.Predict(x, all[i*len(out):(i+1)*len(out)]); err != nil {
			return fmt.Errorf("fold %d: %w", i, err)
		}
	}
	for j := range out {
		if e.vote {
			out[j] = mode(all, len(out), j, k)
			continue
		}
		var sum float32
		for i := 0; i < k; i++ {
			sum += float32(all[i*len(out)+j])
		}
		out[j] = float64(sum / float32(k))
	}
	return nil
}

// mode returns the most frequent of the k values at index j of each fold's outputs, the
// smallest one on ties; NaN counts as no vote.
func mode(all []float64, n, j, k int) float64 {
	best, bestCount := math.NaN(), 0
	for i := 0; i < k; i++ {
		v := all[i*n+j]
		if math.IsNaN(v) {
			continue
		}
		c := 0
		for l := 0; l < k; l++ {
			if all[l*n+j] == v {
				c++
			}
		}
		if c > bestCount || (c == bestCount && v < best) {
			best, bestCount = v, c
		}
	}
	return best
}

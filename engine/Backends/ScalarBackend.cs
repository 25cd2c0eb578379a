namespace DistillSpec.Backends;

/// <summary>
/// The reference: plain loops that read like the math, double accumulators, one thread.
/// Every other backend is tested against this one.
/// </summary>
public sealed class ScalarBackend : HostBackend, IBackend
{
    public string Name => "scalar";

    public void AddRows(Tensor x, Tensor table, int firstRow, int rows, int dim)
    {
        float[] xs = D(x), t = D(table);
        for (int r = 0; r < rows; r++)
            for (int i = 0; i < dim; i++)
                xs[r * dim + i] += t[(firstRow + r) * dim + i];
    }

    public void MatMul(Tensor x, int rows, int inDim, Tensor weight, int outDim, Tensor? bias, Tensor y)
    {
        float[] xs = D(x), ys = D(y);
        float[]? b = bias is null ? null : D(bias);
        var w = new float[inDim];
        for (int o = 0; o < outDim; o++)
        {
            CpuWeights.Row(weight, o, inDim, w);
            for (int r = 0; r < rows; r++)
            {
                double sum = b is null ? 0 : b[o];
                for (int i = 0; i < inDim; i++) sum += (double)xs[r * inDim + i] * w[i];
                ys[r * outDim + o] = (float)sum;
            }
        }
    }

    public void RmsNorm(Tensor x, Tensor weight, int rows, int dim, float eps, Tensor y)
    {
        float[] xs = D(x), w = D(weight), ys = D(y);
        for (int r = 0; r < rows; r++)
        {
            double ss = 0;
            for (int i = 0; i < dim; i++) ss += (double)xs[r * dim + i] * xs[r * dim + i];
            double inv = 1.0 / Math.Sqrt(ss / dim + eps);
            for (int i = 0; i < dim; i++) ys[r * dim + i] = (float)(xs[r * dim + i] * inv * w[i]);
        }
    }

    public void LayerNorm(Tensor x, Tensor weight, Tensor bias, int rows, int dim, float eps, Tensor y)
    {
        float[] xs = D(x), w = D(weight), b = D(bias), ys = D(y);
        for (int r = 0; r < rows; r++)
        {
            double mean = 0, variance = 0;
            for (int i = 0; i < dim; i++) mean += xs[r * dim + i];
            mean /= dim;
            for (int i = 0; i < dim; i++) variance += (xs[r * dim + i] - mean) * (xs[r * dim + i] - mean);
            double inv = 1.0 / Math.Sqrt(variance / dim + eps);
            for (int i = 0; i < dim; i++) ys[r * dim + i] = (float)((xs[r * dim + i] - mean) * inv * w[i] + b[i]);
        }
    }

    public void Rope(Tensor x, int rows, int heads, int headDim, int startPos, float theta)
    {
        float[] xs = D(x);
        int half = headDim / 2;
        for (int r = 0; r < rows; r++)
            for (int h = 0; h < heads; h++)
            {
                int baseIndex = (r * heads + h) * headDim;
                for (int i = 0; i < half; i++)
                {
                    double angle = (startPos + r) * Math.Pow(theta, -2.0 * i / headDim);
                    double cos = Math.Cos(angle), sin = Math.Sin(angle);
                    double x0 = xs[baseIndex + i], x1 = xs[baseIndex + i + half];
                    xs[baseIndex + i] = (float)(x0 * cos - x1 * sin);
                    xs[baseIndex + i + half] = (float)(x1 * cos + x0 * sin);
                }
            }
    }

    public void CopyRows(Tensor source, int sourceRow, Tensor destination, int destinationRow, int rows, int width)
    {
        float[] s = D(source), d = D(destination);
        for (int i = 0; i < rows * width; i++) d[destinationRow * width + i] = s[sourceRow * width + i];
    }

    public void Attention(Tensor q, Tensor keys, Tensor values, int rows, int startPos,
        int heads, int kvHeads, int headDim, Tensor output)
    {
        float[] qs = D(q), ks = D(keys), vs = D(values), os = D(output);
        int kvDim = kvHeads * headDim, group = heads / kvHeads;
        double scale = 1.0 / Math.Sqrt(headDim);
        var scores = new double[startPos + rows];
        for (int r = 0; r < rows; r++)
            for (int h = 0; h < heads; h++)
            {
                int visible = startPos + r + 1, kvOffset = h / group * headDim;
                int qOffset = (r * heads + h) * headDim;
                double max = double.NegativeInfinity;
                for (int t = 0; t < visible; t++)
                {
                    double dot = 0;
                    for (int i = 0; i < headDim; i++) dot += (double)qs[qOffset + i] * ks[t * kvDim + kvOffset + i];
                    scores[t] = dot * scale;
                    max = Math.Max(max, scores[t]);
                }
                double total = 0;
                for (int t = 0; t < visible; t++) total += scores[t] = Math.Exp(scores[t] - max);
                for (int i = 0; i < headDim; i++)
                {
                    double sum = 0;
                    for (int t = 0; t < visible; t++) sum += scores[t] * vs[t * kvDim + kvOffset + i];
                    os[qOffset + i] = (float)(sum / total);
                }
            }
    }

    public void SwiGlu(Tensor gate, Tensor up, int length, Tensor output)
    {
        float[] g = D(gate), u = D(up), o = D(output);
        for (int i = 0; i < length; i++) o[i] = (float)(g[i] / (1 + Math.Exp(-g[i])) * u[i]);
    }

    public void Gelu(Tensor x, int length)
    {
        float[] xs = D(x);
        for (int i = 0; i < length; i++)
        {
            double v = xs[i];
            xs[i] = (float)(0.5 * v * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v))));
        }
    }

    public void Add(Tensor x, Tensor y, int length)
    {
        float[] xs = D(x), ys = D(y);
        for (int i = 0; i < length; i++) xs[i] += ys[i];
    }

    public void Softmax(Tensor x, int rows, int cols)
    {
        float[] xs = D(x);
        for (int r = 0; r < rows; r++)
        {
            double max = double.NegativeInfinity, total = 0;
            for (int c = 0; c < cols; c++) max = Math.Max(max, xs[r * cols + c]);
            for (int c = 0; c < cols; c++) total += Math.Exp(xs[r * cols + c] - max);
            for (int c = 0; c < cols; c++) xs[r * cols + c] = (float)(Math.Exp(xs[r * cols + c] - max) / total);
        }
    }

    public void Dispose() { }

}

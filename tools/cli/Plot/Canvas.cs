namespace DistillSpec.Cli.Plot;

/// <summary>An RGB pixel buffer with just enough drawing for line charts: lines, rectangles and a 3x5 pixel font.</summary>
internal sealed class Canvas(int width, int height)
{
    // Glyph rows top to bottom, 3 bits each, most significant bit on the left.
    private static readonly Dictionary<char, int[]> s_font = new()
    {
        ['0'] = [7, 5, 5, 5, 7], ['1'] = [2, 6, 2, 2, 7], ['2'] = [7, 1, 7, 4, 7], ['3'] = [7, 1, 7, 1, 7],
        ['4'] = [5, 5, 7, 1, 1], ['5'] = [7, 4, 7, 1, 7], ['6'] = [7, 4, 7, 5, 7], ['7'] = [7, 1, 1, 1, 1],
        ['8'] = [7, 5, 7, 5, 7], ['9'] = [7, 5, 7, 1, 7], ['.'] = [0, 0, 0, 0, 2], ['-'] = [0, 0, 7, 0, 0],
        ['A'] = [2, 5, 7, 5, 5], ['D'] = [6, 5, 5, 5, 6], ['E'] = [7, 4, 6, 4, 7], ['G'] = [7, 4, 5, 5, 7],
        ['M'] = [5, 7, 7, 5, 5], ['P'] = [7, 5, 7, 4, 4], ['S'] = [7, 4, 7, 1, 7], ['T'] = [7, 2, 2, 2, 2],
        ['U'] = [5, 5, 5, 5, 7], [' '] = [0, 0, 0, 0, 0],
        ['B'] = [6, 5, 6, 5, 6], ['C'] = [7, 4, 4, 4, 7], ['F'] = [7, 4, 6, 4, 4], ['H'] = [5, 5, 7, 5, 5],
        ['I'] = [7, 2, 2, 2, 7], ['J'] = [1, 1, 1, 5, 7], ['K'] = [5, 5, 6, 5, 5], ['L'] = [4, 4, 4, 4, 7],
        ['N'] = [6, 5, 5, 5, 5], ['O'] = [7, 5, 5, 5, 7], ['Q'] = [7, 5, 5, 7, 1], ['R'] = [6, 5, 6, 5, 5],
        ['V'] = [5, 5, 5, 5, 2], ['W'] = [5, 5, 7, 7, 5], ['X'] = [5, 5, 2, 5, 5], ['Y'] = [5, 5, 2, 2, 2],
        ['Z'] = [7, 1, 2, 4, 7], ['/'] = [1, 1, 2, 4, 4], ['('] = [1, 2, 2, 2, 1], [')'] = [4, 2, 2, 2, 4],
    };

    public int Width { get; } = width;
    public int Height { get; } = height;
    public byte[] Pixels { get; } = Enumerable.Repeat((byte)255, width * height * 3).ToArray();  // (height, width, 3), white

    public void Set(int x, int y, (byte R, byte G, byte B) c)
    {
        if ((uint)x >= (uint)Width || (uint)y >= (uint)Height) return;
        int i = (y * Width + x) * 3;
        (Pixels[i], Pixels[i + 1], Pixels[i + 2]) = c;
    }

    public void Fill(int x, int y, int w, int h, (byte, byte, byte) c)
    {
        for (int j = y; j < y + h; j++)
            for (int i = x; i < x + w; i++) Set(i, j, c);
    }

    /// <summary>Bresenham's line, thick pixels; dash > 0 leaves gaps every dash pixels.</summary>
    public void Line(int x0, int y0, int x1, int y1, (byte, byte, byte) c, int thickness = 1, int dash = 0)
    {
        int dx = Math.Abs(x1 - x0), dy = -Math.Abs(y1 - y0), sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1, error = dx + dy;
        for (int step = 0; ; step++)
        {
            if (dash == 0 || step / dash % 2 == 0) Fill(x0 - thickness / 2, y0 - thickness / 2, thickness, thickness, c);
            if (x0 == x1 && y0 == y1) return;
            int e2 = 2 * error;
            if (e2 >= dy) { error += dy; x0 += sx; }
            if (e2 <= dx) { error += dx; y0 += sy; }
        }
    }

    /// <summary>Text with its top-left corner at (x, y), each font pixel drawn scale x scale; unknown characters are skipped.</summary>
    public void Text(int x, int y, string text, (byte, byte, byte) c, int scale = 2)
    {
        foreach (char ch in text.ToUpperInvariant())
        {
            if (s_font.TryGetValue(ch, out var rows))
                for (int row = 0; row < 5; row++)
                    for (int col = 0; col < 3; col++)
                        if ((rows[row] >> (2 - col) & 1) != 0) Fill(x + col * scale, y + row * scale, scale, scale, c);
            x += 4 * scale;
        }
    }

    public static int TextWidth(string text, int scale = 2) => text.Length * 4 * scale - scale;

    public void Save(string path)
    {
        IO.AtomicFile.Write(path, file => PngWriter.Write(file, Width, Height, Pixels));
    }
}

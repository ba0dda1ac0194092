using System.Buffers;
using System.Text.Json;

namespace Portal.Engine.Repository;

/// <summary>
/// Writes a tree blob's JSON one node at a time, so a folder's entries need not all be held as objects: the bytes
/// are those <see cref="JsonSerializer"/> writes for a whole <see cref="Tree"/> (same ids, so trees written either
/// way deduplicate).
/// </summary>
internal sealed class TreeWriter : IDisposable
{
    private readonly Compression.SegmentedBuffer _buffer = new();
    private readonly Utf8JsonWriter _json;

    public TreeWriter()
    {
        _json = new Utf8JsonWriter(_buffer);
        _json.WriteStartObject();
        _json.WritePropertyName("nodes");
        _json.WriteStartArray();
    }

    /// <summary>Nodes written so far.</summary>
    public int Count { get; private set; }

    public void Add(Node node)
    {
        JsonSerializer.Serialize(_json, node, RepoJson.Default.Node);
        Count++;
    }

    /// <summary>Ends the tree and returns its JSON, in segments when it is large (see <see cref="Compression.SegmentedBuffer"/>).</summary>
    public Compression.SegmentedBuffer Finish()
    {
        _json.WriteEndArray();
        _json.WriteEndObject();
        _json.Flush();
        return _buffer;
    }

    public void Dispose() => _json.Dispose();
}

/// <summary>
/// Reads a tree blob's nodes one at a time, in stored order (names ascending by ordinal, as every backup writes
/// them), so matching a folder against its parent holds the blob's bytes but not one object per entry.
/// </summary>
internal sealed class TreeCursor
{
    private readonly byte[] _json;
    private int _offset;
    private JsonReaderState _state;
    private Node? _peeked;
    private bool _done;

    public TreeCursor(byte[] json)
    {
        _json = json;
        try
        {
            var reader = new Utf8JsonReader(json, isFinalBlock: true, default);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) throw new JsonException("a tree is an object");
            while (true)
            {
                if (!reader.Read() || reader.TokenType != JsonTokenType.PropertyName) { _done = true; return; }
                var isNodes = reader.ValueTextEquals("nodes"u8);
                if (!reader.Read()) throw new JsonException("truncated tree");
                if (isNodes && reader.TokenType == JsonTokenType.StartArray) break;
                if (isNodes) { _done = true; return; } // "nodes": null
                reader.Skip();
            }
            _offset = (int)reader.BytesConsumed;
            _state = reader.CurrentState;
        }
        catch (JsonException e)
        {
            throw new RepositoryException("A tree cannot be parsed.", e);
        }
    }

    /// <summary>The next node, or null after the last one.</summary>
    public Node? Next()
    {
        if (_peeked is { } p)
        {
            _peeked = null;
            return p;
        }
        if (_done) return null;
        try
        {
            var reader = new Utf8JsonReader(_json.AsSpan(_offset), isFinalBlock: true, _state);
            if (!reader.Read() || reader.TokenType == JsonTokenType.EndArray)
            {
                _done = true;
                return null;
            }
            var node = JsonSerializer.Deserialize(ref reader, RepoJson.Default.Node) ?? throw new JsonException("a null node");
            _offset += (int)reader.BytesConsumed;
            _state = reader.CurrentState;
            return node;
        }
        catch (JsonException e)
        {
            _done = true;
            throw new RepositoryException("A tree cannot be parsed.", e);
        }
    }

    /// <summary>
    /// Moves to the node named <paramref name="name"/> (names must be asked in ascending ordinal order) and returns it,
    /// or null when there is none; <paramref name="skipped"/> counts the nodes passed over on the way.
    /// </summary>
    public Node? Seek(string name, ref int skipped)
    {
        while (Next() is { } node)
        {
            var c = string.CompareOrdinal(node.Name, name);
            if (c == 0) return node;
            if (c > 0)
            {
                _peeked = node;
                return null;
            }
            skipped++;
        }
        return null;
    }

    /// <summary>Whether nodes are left after the last one sought.</summary>
    public bool HasMore => _peeked is not null || (!_done && Peek() is not null);

    private Node? Peek() => _peeked ??= Next();
}

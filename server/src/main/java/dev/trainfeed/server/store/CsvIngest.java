package dev.trainfeed.server.store;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Ingests a CSV file (UTF-8, comma-separated, first row a header, double-quoted values may hold
 * commas and {@code ""}; blank lines are skipped). Every column except the label column must be
 * numeric and becomes one element of the float32 field {@code features}, shape [columns], in header
 * order. The optional label column becomes the int64 field {@code label}: if every label is an
 * integer ({@code 3} or {@code 3.0}) it is stored as is; otherwise the sorted distinct label strings
 * are numbered 0 … K-1 in {@link String#compareTo} order and each label is stored as its number.
 *
 * <p>The file is read in two streaming passes (three when labels are strings): validate and count,
 * collect label names, write.
 */
public final class CsvIngest implements IngestSource {
  private final Path file;
  private final String labelColumn;
  private Schema schema;
  private List<String> header;
  private int labelIdx = -1;
  private Map<String, Long> labelIds;

  /**
   * A source reading {@code file}.
   *
   * @param labelColumn header name of the label column, or null for a dataset without labels
   */
  public CsvIngest(Path file, String labelColumn) {
    this.file = file;
    this.labelColumn = labelColumn;
  }

  /** One parsed data row. */
  private record Row(float[] features, String label) {}

  @Override
  public Schema inspect() throws IOException {
    if (schema != null) {
      return schema;
    }
    boolean[] integerLabels = {true};
    long rows = readRows(row -> {
      if (row.label() != null && integerLabels[0] && parseIntegral(row.label()) == null) {
        integerLabels[0] = false;
      }
    });
    if (rows == 0) {
      throw new MalformedSourceException(file + " has a header but no data rows");
    }
    if (labelIdx >= 0 && !integerLabels[0]) {
      TreeSet<String> names = new TreeSet<>();
      readRows(row -> names.add(row.label()));
      labelIds = new HashMap<>();
      for (String n : names) {
        labelIds.put(n, (long) labelIds.size());
      }
    }
    List<FieldSpec> fields = new ArrayList<>();
    fields.add(new FieldSpec("features", DType.FLOAT32, header.size() - (labelIdx >= 0 ? 1 : 0)));
    if (labelIdx >= 0) {
      fields.add(new FieldSpec("label", DType.INT64));
    }
    schema = new Schema(fields, rows, false);
    return schema;
  }

  /** The label names in id order when labels were strings, else an empty list. */
  public List<String> labelNames() throws IOException {
    inspect();
    if (labelIds == null) {
      return List.of();
    }
    return new ArrayList<>(new TreeSet<>(labelIds.keySet()));
  }

  @Override
  public void writeTo(DatasetWriter writer, IngestProgress progress) throws IOException {
    inspect();
    int numFeatures = (int) schema.fields().get(0).elementsPerSample();
    ByteBuffer features = ByteBuffer.allocate(numFeatures * 4).order(ByteOrder.LITTLE_ENDIAN);
    ByteBuffer label = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
    long total = schema.numSamples();
    long[] done = {0};
    readRows(row -> {
      features.clear();
      for (float v : row.features()) {
        features.putFloat(v);
      }
      if (labelIdx >= 0) {
        label.clear().putLong(labelIds != null ? labelIds.get(row.label())
            : parseIntegral(row.label()));
        writer.append(features.array(), label.array());
      } else {
        writer.append(features.array());
      }
      progress.onProgress(++done[0], total);
    });
  }

  @FunctionalInterface
  private interface RowSink {
    void accept(Row row) throws IOException;
  }

  /** Parses and validates every row, handing each to {@code sink}; returns the row count. */
  private long readRows(RowSink sink) throws IOException {
    if (!Files.isRegularFile(file)) {
      throw new MalformedSourceException("CSV file " + file + " does not exist");
    }
    try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      String line = in.readLine();
      long lineNo = 1;
      if (line == null) {
        throw new MalformedSourceException(file + " is empty; it needs a header row");
      }
      readHeader(line.startsWith("\uFEFF") ? line.substring(1) : line);
      long rows = 0;
      while ((line = in.readLine()) != null) {
        lineNo++;
        if (line.isBlank()) {
          continue;
        }
        sink.accept(parseRow(line, lineNo));
        rows++;
      }
      return rows;
    }
  }

  private void readHeader(String line) throws MalformedSourceException {
    header = split(line, 1);
    labelIdx = labelColumn == null ? -1 : header.indexOf(labelColumn);
    if (labelColumn != null && labelIdx < 0) {
      throw new MalformedSourceException(file + " has no column '" + labelColumn + "'; its "
          + "header is " + header);
    }
    if (header.size() - (labelIdx >= 0 ? 1 : 0) == 0) {
      throw new MalformedSourceException(file + " has no feature columns besides the label");
    }
  }

  private Row parseRow(String line, long lineNo) throws MalformedSourceException {
    List<String> cells = split(line, lineNo);
    if (cells.size() != header.size()) {
      throw new MalformedSourceException(file + " line " + lineNo + " has " + cells.size()
          + " columns, the header has " + header.size());
    }
    float[] features = new float[header.size() - (labelIdx >= 0 ? 1 : 0)];
    String label = null;
    int k = 0;
    for (int c = 0; c < cells.size(); c++) {
      String v = cells.get(c).trim();
      if (c == labelIdx) {
        label = v;
        continue;
      }
      Double d = number(v);
      if (d == null) {
        throw new MalformedSourceException(file + " line " + lineNo + " column '"
            + header.get(c) + "': '" + v + "' is not a number");
      }
      features[k++] = Float.parseFloat(v); // not d.floatValue(): that would round twice
    }
    return new Row(features, label);
  }

  /** The value of an integer label ({@code 3}, {@code -1}, {@code 3.0}), or null. */
  private static Long parseIntegral(String s) {
    try {
      return Long.parseLong(s);
    } catch (NumberFormatException e) {
      Double d = number(s);
      return d != null && d == Math.rint(d) && Math.abs(d) < 0x1p53 ? d.longValue() : null;
    }
  }

  /** A decimal number (also NaN, Infinity), or null; Java's f/d suffixes are not CSV numbers. */
  private static Double number(String s) {
    if (s.isEmpty() || "fFdD".indexOf(s.charAt(s.length() - 1)) >= 0) {
      return null;
    }
    try {
      return Double.parseDouble(s);
    } catch (NumberFormatException e) {
      return null;
    }
  }

  /** Splits one CSV line on commas, honouring double quotes and {@code ""} escapes. */
  private List<String> split(String line, long lineNo) throws MalformedSourceException {
    List<String> out = new ArrayList<>();
    StringBuilder cell = new StringBuilder();
    boolean quoted = false;
    for (int i = 0; i < line.length(); i++) {
      char ch = line.charAt(i);
      if (quoted) {
        if (ch == '"' && i + 1 < line.length() && line.charAt(i + 1) == '"') {
          cell.append('"');
          i++;
        } else if (ch == '"') {
          quoted = false;
        } else {
          cell.append(ch);
        }
      } else if (ch == '"') {
        quoted = true;
      } else if (ch == ',') {
        out.add(cell.toString());
        cell.setLength(0);
      } else {
        cell.append(ch);
      }
    }
    if (quoted) {
      throw new MalformedSourceException(file + " line " + lineNo + " has an unterminated quote "
          + "(values spanning lines are not supported)");
    }
    out.add(cell.toString());
    return out;
  }
}

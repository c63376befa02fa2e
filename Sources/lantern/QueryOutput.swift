import ArgumentParser
import Foundation
import LanternStore

/// How `lantern query` prints rows.
enum QueryOutputFormat: String, ExpressibleByArgument, CaseIterable {
    case table, json, csv
}

/// Renders a `QueryResult` as an aligned table, a JSON array of objects, or CSV with a header row.
/// Columns named `at` or `*_at` are epoch microseconds: ISO-8601 in tables, numeric in JSON/CSV (plus `*_at_iso` in JSON).
struct QueryOutput {
    var format: QueryOutputFormat
    /// In table form, show only these columns (when present); JSON and CSV always show all.
    var tableColumns: [String]? = nil
    /// In table form, leave these out when no row has a value (columns only some stores fill, such as
    /// Managed Instances' `in_flight`).
    var sparseTableColumns: Set<String> = []

    func render(_ result: QueryResult) -> String {
        switch format {
        case .table: table(result)
        case .json: json(result)
        case .csv: csv(result)
        }
    }

    static func isTime(_ column: String) -> Bool { column == "at" || column.hasSuffix("_at") }

    static func iso8601(micros: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date(timeIntervalSince1970: Double(micros) / 1_000_000))
    }

    private func table(_ result: QueryResult) -> String {
        var indices = Array(result.columns.indices)
        if let tableColumns {
            let chosen = tableColumns.compactMap { result.columns.firstIndex(of: $0) }
            if !chosen.isEmpty { indices = chosen }
        }
        indices.removeAll { index in
            sparseTableColumns.contains(result.columns[index]) && result.rows.allSatisfy { $0[index].isNull }
        }
        let header = indices.map { result.columns[$0] }
        let cells: [[String]] = result.rows.map { row in
            indices.map { index in
                let value = row[index]
                if Self.isTime(result.columns[index]), let micros = value.int64 { return Self.iso8601(micros: micros) }
                switch value {
                case .null: return ""
                case .real(let number): return Self.formatReal(number)
                case .text(let text):
                    let flat = text.replacingOccurrences(of: "\n", with: "⏎")
                    return flat.count > 100 ? String(flat.prefix(99)) + "…" : flat
                default: return value.description
                }
            }
        }
        let numeric: [Bool] = indices.map { index in
            result.rows.contains { $0[index].double != nil } && !Self.isTime(result.columns[index])
                && result.rows.allSatisfy { $0[index].isNull || $0[index].double != nil }
        }
        var widths = header.map(\.count)
        for row in cells { for (column, cell) in row.enumerated() { widths[column] = max(widths[column], cell.count) } }
        func line(_ values: [String], rightAlign: [Bool]) -> String {
            values.enumerated().map { column, value in
                let padding = String(repeating: " ", count: widths[column] - value.count)
                return rightAlign[column] ? padding + value : value + padding
            }.joined(separator: "  ").trimmingTrailingSpaces()
        }
        var lines = [line(header, rightAlign: numeric), widths.map { String(repeating: "─", count: $0) }.joined(separator: "  ")]
        lines += cells.map { line($0, rightAlign: numeric) }
        lines.append("(\(result.rows.count) row\(result.rows.count == 1 ? "" : "s"))")
        return lines.joined(separator: "\n") + "\n"
    }

    static func formatReal(_ number: Double) -> String {
        if number == number.rounded(), abs(number) < 1e15 { return String(Int64(number)) + ".0" }
        return String(number)
    }

    private func json(_ result: QueryResult) -> String {
        let objects: [[String: Any]] = result.rows.map { row in
            var object: [String: Any] = [:]
            for (index, column) in result.columns.enumerated() {
                let value = row[index]
                object[column] = Self.jsonValue(value)
                if Self.isTime(column), let micros = value.int64 { object[column + "_iso"] = Self.iso8601(micros: micros) }
            }
            return object
        }
        guard let data = try? JSONSerialization.data(withJSONObject: objects, options: [.sortedKeys, .withoutEscapingSlashes]) else {
            return "[]\n"
        }
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    static func jsonValue(_ value: SQLValue) -> Any {
        switch value {
        case .null: NSNull()
        case .integer(let number): NSNumber(value: number)
        case .real(let number): NSNumber(value: number)
        case .text(let text): text
        case .blob(let bytes): Data(bytes).base64EncodedString()
        }
    }

    private func csv(_ result: QueryResult) -> String {
        func field(_ text: String) -> String {
            guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
            return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        var lines = [result.columns.map(field).joined(separator: ",")]
        for row in result.rows {
            lines.append(row.map { value in
                switch value {
                case .null: ""
                case .blob(let bytes): Data(bytes).base64EncodedString()
                default: field(value.description)
                }
            }.joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

extension String {
    fileprivate func trimmingTrailingSpaces() -> String {
        var text = self
        while text.last == " " { text.removeLast() }
        return text
    }
}

/// Writes `text` to stdout without buffering surprises.
func writeStandardOutput(_ text: String) {
    FileHandle.standardOutput.write(Data(text.utf8))
}

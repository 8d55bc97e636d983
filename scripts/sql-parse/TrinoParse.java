// Offline "does this parse as Trino SQL" checker (Athena engine v3 is Trino-based).
//
// Usage (after scripts/setup-trino-parser.sh):
//   java -cp '.cache/trino-parser/*' scripts/sql-parse/TrinoParse.java a.sql b.sql ...
//
// Each file is parsed as exactly ONE statement with io.trino.sql.parser.SqlParser
// (trino-parser 435: createStatement(String); the ParsingOptions overload no longer exists).
// Prints one JSON line per file:
//   {"file":"a.sql","ok":true}
//   {"file":"b.sql","ok":false,"error":"line 1:30: mismatched input ':'. Expecting: ..."}
// Exit code: 0 all ok, 1 any file failed to parse or read, 2 usage error.
// This is a syntax check only: no catalog/type/function resolution.

import io.trino.sql.parser.ParsingException;
import io.trino.sql.parser.SqlParser;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

public class TrinoParse {
    public static void main(String[] args) {
        if (args.length == 0) {
            System.err.println("usage: java -cp '.cache/trino-parser/*' scripts/sql-parse/TrinoParse.java FILE.sql...");
            System.exit(2);
        }
        SqlParser parser = new SqlParser();
        boolean allOk = true;
        StringBuilder out = new StringBuilder();
        for (String file : args) {
            String error = null;
            try {
                String sql = stripTrailingSemicolon(Files.readString(Path.of(file), StandardCharsets.UTF_8));
                if (sql.isBlank()) {
                    error = "empty file";
                } else {
                    parser.createStatement(sql);
                }
            } catch (ParsingException e) {
                // getMessage() is "line L:C: <message>"
                error = e.getMessage();
            } catch (Exception | StackOverflowError e) {
                error = e.getClass().getSimpleName() + ": " + e.getMessage();
            }
            out.setLength(0);
            out.append("{\"file\":").append(json(file));
            if (error == null) {
                out.append(",\"ok\":true}");
            } else {
                allOk = false;
                out.append(",\"ok\":false,\"error\":").append(json(error)).append('}');
            }
            System.out.println(out);
        }
        System.out.flush();
        System.exit(allOk ? 0 : 1);
    }

    // Remove trailing whitespace, then one trailing ';' (plus whitespace before it).
    // Only a semicolon that is the last non-whitespace character is removed; a ';' followed
    // by a trailing "-- comment" is left alone and will be reported as a parse error.
    static String stripTrailingSemicolon(String sql) {
        String s = sql.stripTrailing();
        if (s.endsWith(";")) {
            s = s.substring(0, s.length() - 1).stripTrailing();
        }
        return s;
    }

    static String json(String s) {
        if (s == null) {
            return "null";
        }
        StringBuilder b = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"': b.append("\\\""); break;
                case '\\': b.append("\\\\"); break;
                case '\n': b.append("\\n"); break;
                case '\r': b.append("\\r"); break;
                case '\t': b.append("\\t"); break;
                default:
                    if (c < 0x20) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
            }
        }
        return b.append('"').toString();
    }
}

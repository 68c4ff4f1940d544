/// Builds `Content-Disposition` values (RFC 6266) for downloads.
public enum ContentDisposition {
    /// `attachment; filename="<ASCII fallback>"; filename*=UTF-8''<percent-encoded name>`.
    ///
    /// Old clients read the quoted ASCII fallback (non-ASCII, quotes, backslashes and control characters become
    /// `_`); current browsers read the RFC 5987 `filename*` form and get the exact UTF-8 name. Path separators are
    /// replaced too, so a name can never point a browser at another folder.
    public static func attachment(filename: String) -> String {
        let cleaned = String(
            String.UnicodeScalarView(
                filename.unicodeScalars.map { scalar in
                    (scalar == "/" || scalar == "\\" || scalar.value < 0x20 || scalar.value == 0x7F) ? "_" : scalar
                }))
        let fallback = String(
            String.UnicodeScalarView(
                cleaned.unicodeScalars.map { scalar in
                    (scalar.isASCII && scalar != "\"" && scalar != "%") ? scalar : "_"
                }))
        let encoded = AWSURIEncoding.encode(cleaned, keepingSlashes: false)
        return "attachment; filename=\"\(fallback)\"; filename*=UTF-8''\(encoded)"
    }
}

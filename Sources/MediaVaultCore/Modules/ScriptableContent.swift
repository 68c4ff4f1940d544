/// Types a browser runs code from when it opens them (SVG, HTML, XML with scripts, Flash, PDF with JavaScript).
/// Refused at upload unless an operator allows them, and then only ever served as attachments, so that a shared
/// file cannot run in the API's or the storage's origin.
public enum ScriptableContent {
    static let types: Set<String> = [
        "image/svg+xml", "text/html", "application/xhtml+xml", "text/xml", "application/xml", "text/javascript",
        "application/javascript", "application/ecmascript", "application/x-shockwave-flash", "application/pdf",
        "text/xsl", "application/xslt+xml", "image/svg",
    ]

    /// Whether `mimeType` (normalised: lower case, no parameters) is script-capable.
    public static func isScriptCapable(_ mimeType: String) -> Bool {
        // Any `+xml` type (Atom, RSS, MathML…) is XML a browser may run scripts from.
        types.contains(mimeType) || mimeType.hasSuffix("+xml")
    }
}

import Foundation

#if canImport(FoundationXML)
// On Linux XMLParser lives in FoundationXML, which links the system's libxml2 at run time.
import FoundationXML
#endif

/// A parsed XML element: just enough structure for S3's small response documents.
///
/// Namespaces are ignored (S3 puts everything in one default namespace); attributes are not kept because no
/// response this library reads needs them.
struct XMLElementTree: Sendable, Hashable {
    var name: String
    var text: String
    var children: [XMLElementTree]

    /// The first child element called `name`.
    func child(_ name: String) -> XMLElementTree? {
        children.first { $0.name == name }
    }

    /// All child elements called `name`, in document order.
    func children(_ name: String) -> [XMLElementTree] {
        children.filter { $0.name == name }
    }

    /// The trimmed text of the first child called `name`.
    func value(of name: String) -> String? {
        child(name).map { $0.text.trimmingCharacters(in: .whitespacesAndNewlines) }
    }

    /// Parses `data`; leading whitespace is skipped because S3 may send keep-alive spaces before the document
    /// (CompleteMultipartUpload does while it works) and an XML declaration is only valid at the very start.
    static func parse(_ data: some Collection<UInt8>) throws(ObjectStorageError) -> XMLElementTree {
        let trimmed = Data(data.drop(while: { $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }))
        guard !trimmed.isEmpty else { throw ObjectStorageError(.malformedResponse, "empty XML document") }
        let parser = XMLParser(data: trimmed)
        let builder = TreeBuilder()
        parser.delegate = builder
        parser.shouldProcessNamespaces = false
        parser.shouldResolveExternalEntities = false
        guard parser.parse(), let root = builder.root else {
            let reason = parser.parserError.map { "\($0)" } ?? "no root element"
            throw ObjectStorageError(.malformedResponse, "unreadable XML: \(reason)")
        }
        return root
    }
}

/// XMLParser's delegate, turning SAX events into an ``XMLElementTree``. Used by one parse call only.
private final class TreeBuilder: NSObject, XMLParserDelegate {
    private var stack: [XMLElementTree] = []
    var root: XMLElementTree?

    func parser(
        _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
        qualifiedName qName: String?, attributes attributeDict: [String: String] = [:]
    ) {
        stack.append(XMLElementTree(name: Self.localName(elementName), text: "", children: []))
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        guard !stack.isEmpty else { return }
        stack[stack.count - 1].text += string
    }

    func parser(_ parser: XMLParser, foundCDATA block: Data) {
        guard !stack.isEmpty else { return }
        stack[stack.count - 1].text += String(decoding: block, as: UTF8.self)
    }

    func parser(
        _ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName qName: String?
    ) {
        guard let finished = stack.popLast() else { return }
        if stack.isEmpty {
            root = finished
        } else {
            stack[stack.count - 1].children.append(finished)
        }
    }

    private static func localName(_ name: String) -> String {
        name.split(separator: ":").last.map(String.init) ?? name
    }
}

/// Writes the few XML request bodies S3 needs.
enum XMLWriter {
    static let s3Namespace = "http://s3.amazonaws.com/doc/2006-03-01/"

    /// Escapes text for element content.
    static func escape(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&apos;"
            default: escaped.append(character)
            }
        }
        return escaped
    }

    static func element(_ name: String, _ text: String) -> String {
        "<\(name)>\(escape(text))</\(name)>"
    }
}

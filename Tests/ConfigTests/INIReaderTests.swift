@testable import Config
import Testing

@Suite struct INIReaderTests {
    func parse(_ text: String) -> (INIDocument, [String]) {
        let (document, errors) = INIReader.parse(text, file: "t.ini")
        return (document, errors.map(\.description))
    }

    @Test func sectionsKeysAndValues() {
        let (document, errors) = parse("""
            [daemon]
            log_level = info
            [station scada]
            allow=127.0.0.1
            """)
        #expect(errors.isEmpty)
        #expect(document.sections.count == 2)
        #expect(document.sections[0].kind == "daemon")
        #expect(document.sections[0].name == nil)
        #expect(document.sections[1].kind == "station")
        #expect(document.sections[1].name == "scada")
        #expect(document.sections[1].entries[0].key == "allow")
        #expect(document.sections[1].entries[0].value == "127.0.0.1")
        #expect(document.sections[1].entries[0].location == SourceLocation(file: "t.ini", line: 4))
    }

    @Test func commentsAndInlineComments() {
        let (document, errors) = parse("""
            ; a comment
            # another comment
               ; indented comment
            [listener main]   ; comment after a header
            bind = 0.0.0.0:2404 ; inline comment
            link_errors = close # hash after whitespace is a comment
            name = a#b
            """)
        #expect(errors.isEmpty)
        let entries = document.sections[0].entries
        #expect(entries.map(\.value) == ["0.0.0.0:2404", "close", "a#b"])
        #expect(entries.map(\.location.line) == [5, 6, 7])
    }

    @Test func quotedValues() {
        let (document, errors) = parse(#"""
            [point 47:1]
            name = "Breaker; closed # really"   ; comment
            other = "say \"hi\"\\ \t"
            empty = ""
            spaced = "  padded  "
            """#)
        #expect(errors.isEmpty)
        #expect(document.sections[0].entries.map(\.value) == ["Breaker; closed # really", "say \"hi\"\\ \t", "", "  padded  "])
    }

    @Test func whitespaceAndEmptyValues() {
        let (document, errors) = parse("\t[ station   main ]\t\n   k   =    12   \nempty =\n")
        #expect(errors.isEmpty)
        #expect(document.sections[0].name == "main")
        #expect(document.sections[0].entries.map(\.value) == ["12", ""])
    }

    @Test func crlfLineEndings() {
        let (document, errors) = parse("[daemon]\r\nlog_level = debug\r\n\r\n[listener a]\r\nbind = 1.2.3.4:5 ; x\r\n")
        #expect(errors.isEmpty)
        #expect(document.sections[0].entries[0].value == "debug")
        #expect(document.sections[1].entries[0].value == "1.2.3.4:5")
        #expect(document.sections[1].entries[0].location.line == 5)
    }

    @Test func byteOrderMarkIsSkipped() {
        let (document, errors) = parse("\u{FEFF}[daemon]\nlog_level = info\n")
        #expect(errors.isEmpty)
        #expect(document.sections.first?.kind == "daemon")
    }

    @Test func lineWithoutEquals() {
        let (_, errors) = parse("[daemon]\nlog_level info\n")
        #expect(errors == ["t.ini:2: expected 'key = value' or a [section] header, found 'log_level info'"])
    }

    @Test func unterminatedSectionHeader() {
        let (document, errors) = parse("[station scada\nk = 12\n")
        #expect(errors == ["t.ini:1: unterminated section header '[station scada'; add ']' at its end"])
        #expect(document.sections.first?.name == "scada")
    }

    @Test func unterminatedQuote() {
        let (_, errors) = parse("[point 47:1]\nname = \"open\n")
        #expect(errors == ["t.ini:2: key 'name': unterminated quoted value; add the closing '\"'"])
    }

    @Test func keyBeforeAnySection() {
        let (_, errors) = parse("k = 12\n[station a]\n")
        #expect(errors == ["t.ini:1: key 'k': 'k = ...' comes before any [section] header"])
    }

    @Test func duplicateKeyInSection() {
        let (document, errors) = parse("[station scada]\nk = 12\nw = 8\nk = 20\n")
        #expect(errors == ["t.ini:4: station 'scada' key 'k': duplicate key; it is already set at t.ini:2"])
        #expect(document.sections[0].entries.first?.value == "12")
    }

    @Test func errorsDoNotStopReading() {
        let (document, errors) = parse("[a\nbroken\n[station b]\nk = 1\n")
        #expect(errors.count == 2)
        #expect(document.sections.count == 2)
        #expect(document.sections[1].entries.count == 1)
    }
}
